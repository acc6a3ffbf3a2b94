package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --max-memory}: a copy that leaks (the demo's {@code /leak}, a growing static map) is replaced
 * without one failed request while another client loads the app, and the runtime logs
 * {@code event=memory-restart} naming that copy, and no other. Isolate mode judges the JVM's heap after GC; process
 * mode the child's resident memory.
 */
class MemoryGuardIT {

    @ParameterizedTest
    @CsvSource({"isolate, 192MB", "process, 400MB"})
    void aLeakingCopyIsReplacedWithNoFailedRequest(String mode, String limit) throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demoWithJvmArgs(List.of("-Xmx1g"),
                "--mode", mode, "--isolates", "2", "--standby", "0", "--max-memory", limit,
                "--jvm-arg", "-Xmx1g")) {
            InetSocketAddress address = runtime.awaitReady();
            AtomicBoolean replaced = new AtomicBoolean();
            // closed whatever happens: a load left running would starve the next case's clients
            try (KeepAliveLoad load = KeepAliveLoad.start(address, "/", 4, Duration.ofSeconds(120));
                 Http leaking = new Http(address)) {
                String copy = new ObjectMapper().readTree(leaking.send("/whoami", false).body()).get("isolate").asText();
                Thread leaker = Thread.ofPlatform().daemon(true).start(() -> {
                    try {
                        while (!replaced.get()) {
                            Http.Response r = leaking.send("/leak?mb=8", false);
                            if (r.closed()) {
                                return; // the copy drains: its connection ends
                            }
                            Thread.sleep(100); // the leak's pace (8 MB a tenth of a second), not a wait for the runtime
                        }
                    } catch (Exception e) {
                        // the copy's connection ended
                    }
                });
                try {
                    String line = runtime.awaitLine(l -> l.contains("event=memory-restart"), Duration.ofSeconds(90));
                    replaced.set(true);
                    assertTrue(line.contains("=" + copy + " event=memory-restart"), line + "\nleaking copy: " + copy);
                    runtime.awaitLine(l -> l.contains("=" + copy + " event=drained"), Duration.ofSeconds(60));
                } finally {
                    replaced.set(true);
                    leaker.join(Duration.ofSeconds(15));
                }
                load.close();
                assertEquals(0, load.failed(), load.summary());
                assertTrue(load.ok() > 0, load.summary());
                // until the leaking copy is unloaded the heap stays over the limit: no innocent copy goes
                runtime.awaitLine(l -> l.contains("=" + copy + " event=unloaded"), Duration.ofSeconds(30));
                assertEquals(1, runtime.count(l -> l.contains("event=memory-restart")), runtime.tail(40));
            }
        }
    }
}
