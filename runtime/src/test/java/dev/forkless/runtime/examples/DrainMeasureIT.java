package dev.forkless.runtime.examples;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failed requests of 16 keep-alive connections when one copy crashes, when one exits, and during a rolling
 * reload, in isolate mode: Helidon 4.1 (the drain adapter, linked against the app's own Helidon) and Javalin
 * on Jetty 12 (keep-alive turned off in its Jetty when the drain begins, {@code KeepAliveOff}) must lose
 * none; the figures are printed for docs/decisions.md. The load runs until the ended copies have drained,
 * so what a drain cuts at its timeout is counted.
 */
class DrainMeasureIT {

    private static final int CONNECTIONS = 16;

    static Stream<Arguments> apps() {
        return Stream.of(
                Arguments.of(ExampleApp.example("helidon-4.1", "helidon-4.1/target/example-helidon-4.1.jar"), 0),
                Arguments.of(ExampleApp.example("javalin", "javalin/target/example-javalin.jar"), 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("apps")
    void failedRequestsPerCrashExitAndReload(ExampleApp app, int mayFail) throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        List<String> args = List.of("--isolates", "2", "--standby", "0", "--admin", "off", "--ready-timeout", "90s",
                "--drain-timeout", "2s", app.path().toString(), "--port", String.valueOf(port));
        try (RuntimeProcess runtime = RuntimeProcess.start(args.toArray(String[]::new))) {
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> runtime.hasLine(l -> l.startsWith("forkless ready")) || !runtime.process().isAlive());
            assertTrue(runtime.process().isAlive(), runtime::output);
            assertFalse(runtime.hasLine(l -> l.contains("runs without Forkless's Helidon drain adapter")), runtime::output);
            List<String> figures = new ArrayList<>();
            figures.add("crash=" + fault(runtime, address, "/crash", "event=crashed"));
            figures.add("exit=" + fault(runtime, address, "/exit", "event=exited"));
            long reloads = runtime.count(l -> l.contains("event=reloaded"));
            long drained = runtime.count(isDrained());
            KeepAliveLoad load = loaded(address);
            assertEquals(0, new ProcessBuilder("kill", "-HUP", String.valueOf(runtime.pid())).start().waitFor());
            await().atMost(Duration.ofSeconds(180)).until(() -> runtime.count(l -> l.contains("event=reloaded")) > reloads);
            await().atMost(Duration.ofSeconds(60)).until(() -> runtime.count(isDrained()) >= drained + 2);
            load.close();
            figures.add("reload=" + load.failed());
            System.out.println("DRAIN " + app.name() + " isolate " + String.join(" ", figures) + " (" + load.summary() + ")");
            for (String figure : figures) {
                int failed = Integer.parseInt(figure.replaceAll(".*=", ""));
                assertTrue(failed <= mayFail, () -> app.name() + ": " + figures + "\n" + runtime.output());
            }
        }
    }

    private static long fault(RuntimeProcess runtime, InetSocketAddress address, String path, String event)
            throws Exception {
        long events = runtime.count(l -> l.contains(event));
        long ready = runtime.count(isReady());
        long drained = runtime.count(isDrained());
        try (KeepAliveLoad load = loaded(address)) {
            assertEquals(200, Http.get(address, path).status());
            await().atMost(Duration.ofSeconds(30)).until(() -> runtime.count(l -> l.contains(event)) > events);
            await().atMost(Duration.ofSeconds(120)).until(() -> runtime.count(isReady()) > ready);
            await().atMost(Duration.ofSeconds(60)).until(() -> runtime.count(isDrained()) > drained);
            load.close();
            return load.failed();
        }
    }

    private static Predicate<String> isDrained() {
        return l -> l.matches("forkless isolate=\\d+ event=drained.*");
    }

    private static Predicate<String> isReady() {
        return l -> l.matches("forkless isolate=\\d+ event=ready.*");
    }

    private static KeepAliveLoad loaded(InetSocketAddress address) {
        KeepAliveLoad load = KeepAliveLoad.start(address, "/", CONNECTIONS, Duration.ofSeconds(240));
        await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > 100);
        return load;
    }
}
