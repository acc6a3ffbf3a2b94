package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code FORKLESS_INSTANCE} with the real runtime: three copies answer 0, 1 and 2; the copy that replaces
 * instance 1 after a crash answers 1 again, whether it is a new copy started after the back-off or the
 * standby promoted into the slot. A process-mode standby's environment was fixed at its start without
 * the number: it answers through {@code Worker.instance()} (the demo's {@code /instance}).
 */
class InstanceIT {

    private static final Pattern ID = Pattern.compile("\"isolate\":\"(\\d+)\"");

    /** What one connection learnt of the copy that served it. */
    private record Answer(String id, String instance, String env) {
    }

    /** Asks, on one connection (so of one copy), its id, {@code Worker.instance()} and its variable. */
    private static Answer ask(InetSocketAddress address) throws Exception {
        try (Http http = new Http(address)) {
            Matcher m = ID.matcher(http.send("/whoami", false).body());
            assertTrue(m.find());
            Http.Response instance = http.send("/instance", false);
            Http.Response env = http.send("/env/FORKLESS_INSTANCE", true);
            return new Answer(m.group(1), instance.status() == 200 ? instance.body() : null,
                    env.status() == 200 ? env.body() : null);
        }
    }

    /** @return the copies seen by instance number, once every one of {@code instances} was seen */
    private static Map<String, Answer> byInstance(InetSocketAddress address, Set<String> instances,
                                                  java.util.function.Predicate<Answer> fresh) {
        Map<String, Answer> seen = new HashMap<>();
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            Answer answer = ask(address);
            assertTrue(instances.contains(answer.instance()), "an unknown instance number: " + answer);
            if (fresh.test(answer)) {
                seen.put(answer.instance(), answer);
            }
            return seen.keySet().equals(instances);
        });
        return seen;
    }

    @ParameterizedTest(name = "{0} mode, {1} standby")
    @CsvSource({"isolate, 0", "isolate, 1", "process, 0", "process, 1"})
    void aCrashedCopysReplacementKeepsItsInstanceNumber(String mode, int standby) throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--mode", mode, "--isolates", "3",
                "--standby", String.valueOf(standby), "--drain-timeout", "1s", "--restart-delay", "100ms")) {
            InetSocketAddress address = runtime.awaitReady();
            Map<String, Answer> before = byInstance(address, Set.of("0", "1", "2"), a -> true);
            before.values().forEach(a -> assertEquals(a.instance(), a.env(), "the variable and the API agree: " + a));
            assertEquals(3, before.values().stream().map(Answer::id).distinct().count(), before.toString());

            String crashed = before.get("1").id();
            if (standby == 1) { // the standby (the fourth copy) is ready: it is the one that takes the slot over
                runtime.awaitLine(l -> l.matches("forkless " + mode + "=4 event=ready.*"), Duration.ofSeconds(60));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                try (Http http = new Http(address)) {
                    if (!"1".equals(http.send("/env/FORKLESS_INSTANCE", false).body())) {
                        return false;
                    }
                    assertEquals(202, http.send("/crash", true).status());
                    return true;
                }
            });
            runtime.awaitLine(l -> l.matches("forkless " + mode + "=" + crashed + " event=crashed.*"),
                    Duration.ofSeconds(30));
            Pattern replaced = Pattern.compile("forkless " + mode + "=(\\d+) event="
                    + (standby == 0 ? "started slot=2" : "promoted slot=2") + "\\b.*");
            String line = runtime.awaitLine(l -> {
                Matcher m = replaced.matcher(l);
                return m.matches() && !m.group(1).equals(crashed);
            }, Duration.ofSeconds(30));
            String replacement = line.replaceAll("forkless \\w+=(\\d+) .*", "$1");
            assertNotEquals(crashed, replacement);

            Map<String, Answer> after = byInstance(address, Set.of("0", "1", "2"), a -> !a.id().equals(crashed));
            assertEquals(replacement, after.get("1").id(), "the slot's replacement is instance 1: " + after);
            assertEquals(before.get("0").id(), after.get("0").id());
            assertEquals(before.get("2").id(), after.get("2").id());
            if (standby == 1 && mode.equals("process")) {
                assertEquals(null, after.get("1").env(), "a child's environment is fixed at its start");
            } else {
                assertEquals("1", after.get("1").env(), "the replacement's variable: " + after);
            }
        }
    }
}
