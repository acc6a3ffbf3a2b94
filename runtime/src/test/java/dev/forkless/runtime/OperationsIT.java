package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;
import dev.forkless.runtime.testing.TestJars;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PM2's operations, done without failed requests: reload, scale, restart policy, watch. */
class OperationsIT {

    private static final Pattern ID = Pattern.compile("\"isolate\":\"(\\d+)\"");

    @TempDir
    Path dir;

    private static Set<String> servingIds(InetSocketAddress address, int expected) {
        Set<String> ids = new HashSet<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            Matcher m = ID.matcher(Http.get(address, "/whoami").body());
            assertTrue(m.find());
            ids.add(m.group(1));
            return ids.size() >= expected;
        });
        return ids;
    }

    private static void sighup(RuntimeProcess runtime) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-HUP", String.valueOf(runtime.pid())).start().waitFor());
    }

    @Test
    void aRuntimeStartedUnderNohupStillReloadsOnSighup() throws Exception {
        // nohup starts the runtime with SIGHUP ignored, and the JVM then installs no handler for it
        List<String> args = new ArrayList<>(List.of("--isolates", "1", "--standby", "0",
                RuntimeProcess.demoJar().toString(), "--port", "0", "--host", "127.0.0.1"));
        try (RuntimeProcess runtime = RuntimeProcess.startUnder(List.of("nohup"), List.of(),
                args.toArray(String[]::new))) {
            InetSocketAddress address = runtime.awaitReady();
            Set<String> before = servingIds(address, 1);
            sighup(runtime);
            runtime.awaitLine(l -> l.contains("event=reloaded"), Duration.ofSeconds(120));
            assertTrue(runtime.hasLine(l -> l.contains("event=reloaded ok=true replaced=1")), runtime.output());
            assertTrue(runtime.process().isAlive(), "SIGHUP reloads, it does not end the runtime");
            Set<String> after = servingIds(address, 1);
            assertTrue(java.util.Collections.disjoint(before, after), before + " -> " + after);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0} mode")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"isolate", "process"})
    void rollingReloadUnderKeepAliveLoadFailsNoRequest(String mode) throws Exception {
        // a child JVM can take longer than the default 3 s to start on a loaded 2-core machine
        try (RuntimeProcess runtime = RuntimeProcess.demo("--mode", mode, "--isolates", "2", "--standby", "1",
                "--ready-timeout", "30s")) {
            InetSocketAddress address = runtime.awaitReady();
            Set<String> before = servingIds(address, 2);
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 16, Duration.ofSeconds(4));
            // progress, not a rate: a busy machine serves a cold runtime slowly (CI saw fewer than 500 answers in 3 s)
            await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > 100);
            sighup(runtime);
            runtime.awaitLine(l -> l.contains("event=reloaded"), Duration.ofSeconds(120));
            load.await();
            assertTrue(runtime.hasLine(l -> l.contains("event=reloaded ok=true replaced=3")), runtime.output());
            assertEquals(0, load.failed(), load.summary());
            Set<String> after = servingIds(address, 2);
            assertEquals(2, after.size());
            assertTrue(after.stream().noneMatch(before::contains), "new copies serve: before " + before + " after " + after);
        }
    }

    @Test
    void reloadOfABrokenBuildKeepsTheOldCopiesServing() throws Exception {
        Path jar = TestJars.demoCopy(dir.resolve("app.jar"));
        try (RuntimeProcess runtime = RuntimeProcess.start("--isolates", "2", "--standby", "0", jar.toString(),
                "--port", "0", "--host", "127.0.0.1")) {
            InetSocketAddress address = runtime.awaitReady();
            Set<String> before = servingIds(address, 2);
            TestJars.brokenApp(jar);
            sighup(runtime);
            String line = runtime.awaitLine(l -> l.contains("event=reloaded"), Duration.ofSeconds(120));
            assertTrue(line.contains("ok=false") && line.contains("broken build"), line);
            assertEquals(before, servingIds(address, 2), "the old copies still serve");
            assertEquals("Hello World", Http.get(address, "/").body());
        }
    }

    @Test
    void aCopyThatCrashesAtStartBacksOffThenErrors() throws Exception {
        Path jar = TestJars.brokenApp(dir.resolve("broken.jar"));
        try (RuntimeProcess runtime = RuntimeProcess.start("--isolates", "1", "--standby", "0",
                "--max-restarts", "3", "--restart-delay", "100ms", jar.toString())) {
            assertEquals(1, runtime.awaitExit(Duration.ofSeconds(60)), runtime.output());
            List<Long> delays = new ArrayList<>();
            Pattern restarting = Pattern.compile("slot=1 event=restarting attempt=(\\d+) delayMs=(\\d+)");
            for (String l : runtime.lines()) {
                Matcher m = restarting.matcher(l);
                if (m.find()) {
                    delays.add(Long.parseLong(m.group(2)));
                }
            }
            assertEquals(List.of(100L, 150L, 225L), delays, runtime.output());
            assertEquals(4, runtime.count(l -> l.contains("event=crashed") && l.contains("broken build")));
            assertTrue(runtime.hasLine(l -> l.contains("slot=1 event=errored unstableRestarts=4")), runtime.output());
            assertTrue(runtime.lines().getLast().startsWith("forkless: every copy errored"), runtime.output());
        }
    }

    @Test
    void watchReloadsOnceWhenTheJarIsRewritten() throws Exception {
        Path jar = TestJars.demoCopy(dir.resolve("app.jar"));
        try (RuntimeProcess runtime = RuntimeProcess.start("--isolates", "2", "--standby", "0", "--watch",
                "--watch-delay", "3s", jar.toString(), "--port", "0", "--host", "127.0.0.1")) {
            InetSocketAddress address = runtime.awaitReady();
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 8, Duration.ofSeconds(4));
            TestJars.demoCopy(jar);
            TestJars.demoCopy(jar); // a build writes more than once (within the watch delay): still one reload
            runtime.awaitLine(l -> l.contains("event=reloaded"), Duration.ofSeconds(120));
            load.await();
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
                    .until(() -> runtime.count(l -> l.contains("event=reloading")) == 1);
            assertTrue(runtime.hasLine(l -> l.contains("event=reloading trigger=\"watch\"")), runtime.output());
            assertTrue(runtime.hasLine(l -> l.contains("event=reloaded ok=true replaced=2")), runtime.output());
            assertEquals(0, load.failed(), load.summary());
        }
    }
}
