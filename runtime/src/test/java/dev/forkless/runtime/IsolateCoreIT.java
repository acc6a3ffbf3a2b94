package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The isolate core, end to end: the real runtime.jar running the real demo jar, over real sockets. */
class IsolateCoreIT {

    private static final Pattern WHOAMI = Pattern.compile("\\{\"isolate\":\"(\\d+)\",\"pid\":(\\d+),\"mode\":\"(\\w+)\"}");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"forkless.demo.jar", "forkless.demo.fatjar"})
    void twoIsolatesServeOnePortFromOneJvm(String jarProperty) throws Exception {
        Path jar = RuntimeProcess.artifact(jarProperty);
        try (RuntimeProcess runtime = RuntimeProcess.start("--isolates", "2", jar.toString(),
                "--port", "0", "--host", "127.0.0.1")) {
            InetSocketAddress address = runtime.awaitReady();
            Set<String> ids = new HashSet<>();
            Set<Long> pids = new HashSet<>();
            for (int i = 0; i < 50; i++) {
                Http.Response response = Http.get(address, "/whoami");
                assertEquals(200, response.status());
                Matcher m = WHOAMI.matcher(response.body());
                assertTrue(m.matches(), response.body());
                assertEquals("isolate", m.group(3));
                ids.add(m.group(1));
                pids.add(Long.parseLong(m.group(2)));
            }
            assertEquals(2, ids.size(), "both isolates answer: " + ids);
            assertEquals(Set.of(runtime.pid()), pids, "one JVM: the runtime's");
            assertEquals("Hello World", Http.get(address, "/").body());
        }
    }

    @Test
    void crashAndExitLeaveTwoServingIsolates() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "1")) {
            InetSocketAddress address = runtime.awaitReady();

            assertEquals(202, Http.get(address, "/crash").status());
            runtime.awaitLine(l -> l.contains("event=crashed") && l.contains("crash requested through /crash"),
                    Duration.ofSeconds(60));
            assertEquals(202, Http.get(address, "/exit").status());
            runtime.awaitLine(l -> l.contains("event=exited status=3"), Duration.ofSeconds(60));

            // both ended copies are unloaded, their places taken; a new standby is ready again
            await().atMost(Duration.ofSeconds(30)).until(() -> runtime.count(l -> l.contains("event=unloaded")) == 2
                    && runtime.count(l -> l.contains("event=ready")) == 5);
            Set<String> ended = new HashSet<>();
            runtime.lines().stream()
                    .filter(l -> l.contains("event=crashed") || l.contains("event=exited"))
                    .forEach(l -> ended.add(l.replaceAll(".*isolate=(\\d+).*", "$1")));

            Set<String> serving = new HashSet<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                Matcher m = WHOAMI.matcher(Http.get(address, "/whoami").body());
                assertTrue(m.matches());
                serving.add(m.group(1));
                return serving.size() >= 2;
            });
            assertEquals(2, serving.size(), "two isolates serve: " + serving);
            assertTrue(serving.stream().noneMatch(ended::contains), "ended " + ended + " no longer serve: " + serving);
            assertTrue(runtime.process().isAlive(), "the JVM never exits");
        }
    }

    @Test
    void crashUnderKeepAliveLoadFailsNoRequest() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2")) {
            InetSocketAddress address = runtime.awaitReady();
            // the load runs until closed, and each phase waits for progress rather than a fixed time: a busy
            // machine serves a cold runtime slowly (CI once saw fewer than 500 answers in 3 s)
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 16, Duration.ofSeconds(120));
            await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > 500);
            assertEquals(202, Http.get(address, "/crash").status());
            runtime.awaitLine(l -> l.contains("event=crashed"), Duration.ofSeconds(60));
            long atCrash = load.ok();
            await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > atCrash + 500 && load.reconnects() > 0);
            load.close();
            runtime.awaitLine(l -> l.contains("event=drained"), Duration.ofSeconds(30));
            assertEquals(0, load.failed(), load.summary());
            assertTrue(load.reconnects() > 0, "clients of the crashed isolate moved: " + load.summary());
        }
    }

    @Test
    void sigtermDrainsAndExitsZero() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2")) {
            InetSocketAddress address = runtime.awaitReady();
            assertEquals(200, Http.get(address, "/").status());
            runtime.terminate();
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(20)), runtime.output());
            assertTrue(runtime.hasLine(l -> l.contains("event=stopping reason=\"SIGTERM\"")), runtime.output());
            assertEquals(3, runtime.count(l -> l.contains("event=unloaded")), runtime.output());
            assertNotEquals(0, runtime.count(l -> l.contains("event=drained")));
        }
    }
}
