package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rows of docs/isolation.md that both modes survive: a fault injected into one copy while keep-alive
 * clients hammer the service. The runtime survives, the copy is replaced and unloaded, and no request
 * fails.
 */
class FaultMatrixIT {

    private static final Pattern PID = Pattern.compile("\"pid\":(\\d+)");

    /**
     * The last column is how many requests may fail: none, but for {@code kill -9} of a child, where the
     * kernel resets the connections the dead process held (at most one request each of the 8), and for a
     * child's {@code OutOfMemoryError}, which ends it the same way.
     */
    @ParameterizedTest(name = "{0} mode, {1}")
    @CsvSource({
        "isolate, /crash, event=crashed, 0",
        "isolate, /exit, event=exited status=3, 0",
        "isolate, /halt, event=exited status=4, 0",
        "isolate, /hang, event=hung, 0",
        "process, /crash, event=crashed, 0",
        // process mode: a child's dispatcher is lazy (the app's accept takes each connection from the
        // kernel), so a child that exits or halts leaves what its app did not take to the other child
        "process, /exit, event=exited status=3, 0",
        "process, /halt, event=exited status=4, 0",
        "process, /hang, event=hung, 0",
        "process, /hang-in-jdk, event=hung, 0",
        "process, /deadlock, event=hung, 0",
        // the child JVM runs with -XX:+ExitOnOutOfMemoryError (JvmFlags.childDefaults): it exits with status 3
        // at once, undrained (as a kill -9), so that an OOM the app would catch still ends it
        "process, /oom, event=exited status=3, 8",
        "process, kill -9, event=crashed, 8",
    })
    void aFaultInOneCopyUnderLoadFailsNoRequest(String mode, String fault, String event, int mayFail) throws Exception {
        // a child's heap is its own: small, so that /oom exhausts it quickly
        // a hang timeout and drain timeout a busy machine's requests fit in (at load 28, 2 s took a fresh child
        // JVM's acceptor for hung, and 1 s cut keep-alive requests in flight, as the drain timeout may)
        try (RuntimeProcess runtime = RuntimeProcess.demo("--mode", mode, "--isolates", "2", "--hang-timeout", "5s",
                "--drain-timeout", "3s", "--jvm-arg=-Xmx128m")) {
            InetSocketAddress address = runtime.awaitReady();
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 8, Duration.ofSeconds(5));
            // progress, not a rate: a busy machine serves a cold runtime slowly (CI saw fewer than 500 answers in 3 s)
            await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > 50);
            Socket hanging = null;
            switch (fault) {
                case "/hang", "/hang-in-jdk", "/deadlock" -> hanging = Http.fire(address, fault);
                case "kill -9" -> {
                    Matcher m = PID.matcher(Http.get(address, "/whoami").body());
                    assertTrue(m.find());
                    assertEquals(0, new ProcessBuilder("kill", "-9", m.group(1)).start().waitFor());
                }
                default -> assertEquals(202, Http.get(address, fault).status());
            }
            String line = runtime.awaitLine(l -> l.contains(event), Duration.ofSeconds(60));
            String id = line.replaceAll(".*(?:isolate|process)=(\\d+).*", "$1");
            runtime.awaitLine(l -> l.contains("=" + id + " event=unloaded"), Duration.ofSeconds(60));
            load.await();
            if (hanging != null) {
                hanging.close();
            }
            assertTrue(load.failed() <= mayFail, load.summary());
            assertTrue(runtime.process().isAlive(), "the runtime survives");
            assertEquals(200, Http.get(address, "/").status());
        }
    }

}
