package dev.forkless.isolate;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the agent contains (this JVM runs with {@code -javaagent:} the isolates jar, as runtime.jar starts
 * it from its own manifest): exits by any path, classes of loaders the app makes, system class loader,
 * URL protocol handlers and listening sockets the JDK opens, each per copy.
 */
class AgentIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final List<Isolate> started = new ArrayList<>();
    private final TestApps.RecordingHost sockets = new TestApps.RecordingHost();

    @AfterEach
    void unload() throws IOException {
        started.forEach(i -> i.unload(Duration.ofSeconds(2)));
        sockets.close();
    }

    @Test
    void theAgentIsInstalled() {
        assertTrue(JvmBridge.installed(), "the JVM-wide bridge has its hook");
        assertTrue(SelectorProvider.provider() instanceof ForklessSelectorProvider,
                "the selector provider was set before anything used NIO: " + SelectorProvider.provider());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"reflect, 3", "handle, 4", "halt, 5", "pool, 6"})
    void anExitByAnyPathEndsOnlyItsCopy(String path, int status) throws Exception {
        Copy other = start("other", "wait");
        await().atMost(WAIT).until(() -> other.report().contains("waiting"));
        Copy exiting = start("exiting", path);

        assertEquals(status, exiting.host.exited.get(WAIT.toSeconds(), TimeUnit.SECONDS), "the copy's exit status");
        assertFalse(exiting.report().contains("returned"), "the exit did not return to the app");
        // the JVM goes on (this test runs), and so does the other copy
        assertFalse(other.host.exited.isDone(), "the other copy did not exit");
        assertFalse(other.host.crashed.isDone(), "the other copy did not crash");
        assertTrue(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("isolate-other-main")),
                "the other copy's main thread is alive");
    }

    @Test
    void classesOfALoaderTheAppMadeAreRewritten() throws Exception {
        Path plugin = AgentAppJar.jar(dir.resolve("plugin.jar"), null, "testplugin/Plugin");
        Copy copy = start("a", "plugin", "copy-a", plugin.toString());
        assertEquals(7, copy.host.exited.get(WAIT.toSeconds(), TimeUnit.SECONDS), "System.exit in the plugin ended the copy");
        assertEquals("""
                appSystemLoaderIsApps=true
                property=copy-a
                systemLoaderIsApps=true
                """, copy.report(), "the plugin class sees the copy's properties and system class loader");
        assertEquals(null, System.getProperty("agentapp.copy"), "the JVM's properties are untouched");
    }

    @Test
    void aProtocolHandlerOneCopyRegistersIsThatCopysAlone() throws Exception {
        Copy a = start("a", "protocol");
        await().atMost(WAIT).until(() -> !a.report().isEmpty());
        assertEquals("opened=handled copy\n", a.report(), "the copy's java.protocol.handler.pkgs handler");

        Copy b = start("b", "noprotocol");
        await().atMost(WAIT).until(() -> b.report().contains("returned"));
        assertEquals("unknown: unknown protocol: forkless\nreturned\n", b.report(), "another copy does not see it");
        assertEquals(null, System.getProperty("java.protocol.handler.pkgs"), "the JVM's property is untouched");
        assertThrowsMalformed();
    }

    private static void assertThrowsMalformed() {
        try {
            URI.create("forkless:jvm").toURL();
            throw new AssertionError("the JVM itself knows the copy's protocol");
        } catch (java.net.MalformedURLException | IllegalArgumentException expected) {
            // the runtime's own code does not see the copy's handler
        }
    }

    @Test
    void theLogHandlerACopysLoggingConfigurationNamesIsLoaded() throws Exception {
        Copy copy = start("a", "logging", "copy-a");
        await().atMost(WAIT).until(() -> copy.report().contains("returned"));
        assertEquals("handled hello from copy-a\nreturned\n", copy.report(),
                "JUL's LogManager loaded the copy's handler through the copy's loader");
    }

    @Test
    void aLogHandlerAnUnloadedCopyLeftOnTheRootLoggerNeitherStaysNorStopsAnotherCopy() throws Exception {
        // Spring Boot on Tomcat: the copy's SLF4JBridgeHandler (defined by the launcher's loader, below the
        // copy's) stayed on the root logger after a crash; its loop check then unwound every other copy's
        // thread that logged through JUL (the replacement's Tomcat start, the other copy's requests)
        Path launched = AgentAppJar.jar(dir.resolve("launched.jar"), null, "testplugin/BridgeHandler");
        Path go = dir.resolve("go");
        Copy unloaded = start("a", new CallSiteRewriter(true), "bridge", launched.toString());
        await().atMost(WAIT).until(() -> unloaded.report().contains("installed"));
        Copy other = start("b", new CallSiteRewriter(true), "log", go.toString());
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        assertTrue(java.util.Arrays.stream(root.getHandlers()).anyMatch(h -> h.getClass().getName().equals("testplugin.BridgeHandler")),
                "the copy's handler is on the JVM's root logger");

        unloaded.isolate().unload(Duration.ofMillis(500));
        assertFalse(java.util.Arrays.stream(root.getHandlers()).anyMatch(h -> h.getClass().getName().equals("testplugin.BridgeHandler")),
                "the unload removed the handler a loader below the copy's defined");
        Files.createFile(go);
        await().atMost(WAIT).until(() -> other.report().contains("returned")); // both lines written
        assertEquals("logged\nreturned\n", other.report(), "the other copy logs on");
    }

    @Test
    void theJdkHttpServerListensThroughTheCopysView() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Copy copy = start("a", "httpserver", String.valueOf(port));
        await().atMost(WAIT).until(() -> !copy.report().isEmpty());
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        assertEquals(1, copy.host.binds.getOrDefault(address, 0),
                "the channel the JDK's HttpServer opened joined the host's shared socket: " + copy.report());
        if (copy.report().startsWith("started")) {
            // with a listener view every JDK selector accepts (issue 13, deliverable 1), it serves
            try (HttpClient client = HttpClient.newHttpClient()) {
                HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/")).timeout(WAIT).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals("copy", response.body());
            }
        }
    }

    // ---- helpers ----

    private record Copy(Isolate isolate, TestApps.RecordingHost host, Path reportFile) {
        String report() throws IOException {
            return Files.exists(reportFile) ? Files.readString(reportFile) : "";
        }
    }

    private Copy start(String id, String... args) throws IOException {
        return start(id, new CallSiteRewriter(), args);
    }

    private Copy start(String id, CallSiteRewriter rewriter, String... args) throws IOException {
        Path app = dir.resolve("agentapp.jar");
        if (!Files.exists(app)) {
            AgentAppJar.write(app);
        }
        Path report = dir.resolve(id + ".txt");
        TestApps.RecordingHost host = new TestApps.RecordingHost(sockets.sockets());
        Isolate isolate = Isolate.builder().id(id).app(AppJar.open(app)).host(host).rewriter(rewriter).build();
        started.add(isolate);
        List<String> argv = new ArrayList<>();
        argv.add(report.toString());
        argv.addAll(List.of(args));
        isolate.start(argv);
        return new Copy(isolate, host, report);
    }
}
