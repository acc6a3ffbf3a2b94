package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Apps that misbehave: the service keeps answering, and the runtime says what it could not reclaim. */
class HostileAppsIT {


    @Test
    void aHungCopyIsReplacedWithoutFailedRequestsAndItsSpinningThreadEnds() throws Exception {
        // timeouts a busy machine's requests fit in (2 s / 1 s took a slow copy for hung and cut keep-alive
        // requests, as those timeouts may)
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--hang-timeout", "5s",
                "--drain-timeout", "3s")) {
            InetSocketAddress address = runtime.awaitReady();
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 8, Duration.ofSeconds(6));
            // progress, not a rate: a busy machine serves a cold runtime slowly (CI saw fewer than 500 answers in 3 s)
            await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > 50);
            try (Socket hanging = Http.fire(address, "/hang")) {
                String hung = runtime.awaitLine(l -> l.contains("event=hung"), Duration.ofSeconds(60));
                assertTrue(hung.contains("in flight"), hung);
                String id = hung.replaceAll(".*isolate=(\\d+).*", "$1");
                String unloaded = runtime.awaitLine(l -> l.contains("isolate=" + id + " event=unloaded"), Duration.ofSeconds(60));
                assertFalse(unloaded.contains("leftoverThreads"), "the loop check ended the spinning thread: " + unloaded);
                assertEquals(-1, hanging.getInputStream().read(), "the hung request's connection was closed");
            }
            load.await();
            assertEquals(0, load.failed(), load.summary());
            // the runtime's own work is over: the standby it started when it promoted the old one is ready (a
            // copy's start is seconds of one busy core, which a 2 s window right after the load may catch)
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    runtime.count(l -> l.matches("forkless isolate=\\d+ event=started.*"))
                            == runtime.count(l -> l.matches("forkless isolate=\\d+ event=ready.*")));
            // the JVM gives the CPU back: a thread still spinning would burn a whole core (2 CPU seconds in
            // 2 seconds); after the load, the JIT and GC settle well below half of that
            double before = runtime.cpuSeconds();
            var threadsBefore = runtime.threadCpuTicks();
            await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> true);
            double used = runtime.cpuSeconds() - before;
            String busiest = RuntimeProcess.busiest(threadsBefore, runtime.threadCpuTicks(), 6);
            assertTrue(used < 1.0, () -> "CPU seconds used in 2 idle seconds: " + used + "; busiest threads (ticks): "
                    + busiest + "; the runtime said:\n" + String.join("\n", runtime.lines().stream()
                    .filter(l -> l.startsWith("forkless")).toList()));
        }
    }

    @Test
    void aLoopInsideJdkCodeIsReportedAsALeakedIsolate() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--hang-timeout", "2s",
                "--drain-timeout", "500ms")) {
            InetSocketAddress address = runtime.awaitReady();
            try (Socket hanging = Http.fire(address, "/hang-in-jdk")) {
                String hung = runtime.awaitLine(l -> l.contains("event=hung"), Duration.ofSeconds(60));
                String id = hung.replaceAll(".*isolate=(\\d+).*", "$1");
                String unloaded = runtime.awaitLine(l -> l.contains("isolate=" + id + " event=unloaded"), Duration.ofSeconds(60));
                assertTrue(unloaded.contains("leftoverThreads="), "a thread in JDK code cannot be stopped: " + unloaded);
            }
            assertEquals(200, Http.get(address, "/").status(), "the service keeps answering");
        }
    }

    @Test
    void aDeadlockedCopyIsReplacedAndItsThreadsReported() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--hang-timeout", "2s",
                "--drain-timeout", "500ms")) {
            InetSocketAddress address = runtime.awaitReady();
            try (Socket hanging = Http.fire(address, "/deadlock")) {
                String hung = runtime.awaitLine(l -> l.contains("event=hung"), Duration.ofSeconds(60));
                String id = hung.replaceAll(".*isolate=(\\d+).*", "$1");
                String unloaded = runtime.awaitLine(l -> l.contains("isolate=" + id + " event=unloaded"), Duration.ofSeconds(60));
                assertTrue(unloaded.contains("demo-deadlock-1") && unloaded.contains("demo-deadlock-2"), unloaded);
            }
            assertEquals(200, Http.get(address, "/").status());
        }
    }

    @Test
    void heapExhaustionInOneCopyCrashesThatCopyOnly() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demoWithJvmArgs(List.of("-Xmx256m"), "--isolates", "2")) {
            InetSocketAddress address = runtime.awaitReady();
            assertEquals(202, Http.get(address, "/oom").status());
            String crashed = runtime.awaitLine(l -> l.contains("event=crashed") && l.contains("OutOfMemoryError"),
                    Duration.ofSeconds(30));
            String id = crashed.replaceAll(".*isolate=(\\d+).*", "$1");
            runtime.awaitLine(l -> l.contains("isolate=" + id + " event=unloaded"), Duration.ofSeconds(20));
            await().atMost(Duration.ofSeconds(10)).until(() -> Http.get(address, "/").status() == 200);
            assertTrue(runtime.process().isAlive());
        }
    }

    @Test
    void systemPropertiesAndStaticsArePerCopy() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "0")) {
            InetSocketAddress address = runtime.awaitReady();
            // each copy counts its own requests in a static
            Set<String> counters = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                counters.add(Http.get(address, "/counter").body());
            }
            assertTrue(counters.contains("1"), "each copy starts its own static from zero: " + counters);
            // a property set through one copy is seen by that copy only
            assertEquals("set-by-one-copy", Http.request(address, "PUT", "/property/forkless.demo", "set-by-one-copy").body());
            Set<String> seen = new HashSet<>();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                seen.add(Http.get(address, "/property/forkless.demo").body());
                return seen.size() == 2;
            });
            assertEquals(Set.of("set-by-one-copy", "null"), seen);
        }
    }
}
