package dev.forkless.isolate;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A copy lives as a JVM lives: while it has a live non-daemon thread, whether or not {@code main} returned. */
class IsolateLifeTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void dispatchUncaughtExceptions() {
        UncaughtExceptionDispatcher.install();
    }

    private Isolate linger(TestApps.RecordingHost host) {
        return Isolate.builder().id("1").app(AppJar.open(TestApps.jar(dir, "LingerApp"))).host(host).build();
    }

    @Test
    void aCopyWhoseMainReturnedRunsUntilItsLastNonDaemonThreadEnds() throws Exception {
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = linger(host);
            // started from a daemon thread, as the runtime's own threads are: the copy's main thread is a
            // non-daemon thread all the same, as a JVM's is, and so is the server thread it starts
            Thread starter = Thread.ofPlatform().daemon(true).start(() -> isolate.start(List.of("0")));
            starter.join();
            host.ready.get(10, TimeUnit.SECONDS);
            InetSocketAddress address = host.boundAddress();
            assertEquals("hello from 1", talk(address, null));
            assertThrows(TimeoutException.class, () -> host.exited.get(300, TimeUnit.MILLISECONDS),
                    "main returned, but its server thread still runs: the copy runs");
            assertEquals("hello from 1", talk(address, null));

            assertEquals("stopping", talk(address, "stop"));
            assertEquals(0, host.exited.get(10, TimeUnit.SECONDS), "the last non-daemon thread ended: exit 0");
            assertTrue(isolate.unload(Duration.ofSeconds(30)).leftoverThreads().isEmpty());
        }
    }

    @Test
    void anUnloadedCopyWhoseMainReturnedServesNoMore() throws Exception {
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = linger(host);
            isolate.start(List.of("0"));
            host.ready.get(10, TimeUnit.SECONDS);
            InetSocketAddress address = host.boundAddress();
            assertEquals("hello from 1", talk(address, null));

            isolate.beginDrain();
            Isolate.UnloadReport report = isolate.unload(Duration.ofSeconds(30));
            assertEquals(List.of(), report.leftoverThreads(), "its server thread ended when its listener closed");
            assertThrows(TimeoutException.class, () -> host.exited.get(200, TimeUnit.MILLISECONDS),
                    "an unloaded copy does not report an exit of its own");
            // the shared socket is still open (the runtime's), but no thread of the copy accepts on it
            try (Socket socket = new Socket()) {
                socket.connect(address, 2_000);
                socket.setSoTimeout(500);
                assertThrows(SocketTimeoutException.class, () -> socket.getInputStream().read());
            }
            assertFalse(Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().equals("linger-app-server")), "no thread of the copy is left");
        }
    }

    @Test
    void aDrainWithoutAServerAdapterRunsTheCopysShutdownHooksAtOnce() throws Exception {
        Path marker = dir.resolve("hook");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = linger(host);
            isolate.start(List.of("0", marker.toString()));
            host.ready.get(10, TimeUnit.SECONDS);
            assertEquals("hello from 1", talk(host.boundAddress(), null));
            assertFalse(java.nio.file.Files.exists(marker));

            isolate.beginDrain();
            // the hook ran when the drain began, not at unload: the server stopped as on SIGTERM
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> java.nio.file.Files.exists(marker));
            assertEquals(0, host.exited.get(10, TimeUnit.SECONDS), "its server thread ended: the copy ended");
            assertThrows(IllegalStateException.class, () -> isolate.addShutdownHook(new Thread(() -> { })),
                    "no hook can be added once they run, as in a JVM");
            assertEquals(List.of(), isolate.unload(Duration.ofSeconds(30)).leftoverThreads());
            assertEquals("graceful shutdown", java.nio.file.Files.readString(marker), "the hook ran once");
        }
    }

    /**
     * Tomcat stops by connecting to its own port to wake its acceptor: the connection reaches the draining
     * copy itself (the shared socket would give it to another copy, or leave it queued), and the idle
     * workers of a pool the app never shut down end at unload.
     */
    @Test
    void aDrainingCopyThatConnectsToItsOwnPortReachesItselfAndItsPoolsEndAtUnload() throws Exception {
        Path marker = dir.resolve("unlock");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = Isolate.builder().id("1").app(AppJar.open(TestApps.jar(dir, "UnlockApp"))).host(host).build();
            isolate.start(List.of("0", marker.toString()));
            host.ready.get(10, TimeUnit.SECONDS);
            assertEquals("hello", talk(host.boundAddress(), null), "the pool ran a task: its worker idles");

            isolate.beginDrain(); // the hook runs now; the draining copy takes no connection of the shared socket
            // written, not only created
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> java.nio.file.Files.exists(marker)
                    && !java.nio.file.Files.readString(marker).isEmpty());
            assertEquals("woken", java.nio.file.Files.readString(marker), "the hook's connection reached the copy's own acceptor");
            assertEquals(List.of(), isolate.unload(Duration.ofSeconds(30)).leftoverThreads(),
                    "the idle pool worker ignored the interrupt; the pool was shut down");
        }
    }

    @Test
    void aJdkHttpServerWhoseMainReturnedRunsOnAndIsStoppedAtUnload() throws Exception {
        Path portFile = dir.resolve("port");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = Isolate.builder().id("1").app(AppJar.open(TestApps.jar(dir, "JdkHttpApp"))).host(host).build();
            isolate.start(List.of(portFile.toString()));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> java.nio.file.Files.exists(portFile)
                    && !java.nio.file.Files.readString(portFile).isEmpty());
            int port = Integer.parseInt(java.nio.file.Files.readString(portFile));
            java.net.URI uri = java.net.URI.create("http://127.0.0.1:" + port + "/");
            try (java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient()) {
                assertEquals("hello", client.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body());
            }
            assertThrows(TimeoutException.class, () -> host.exited.get(300, TimeUnit.MILLISECONDS),
                    "main returned; the server's dispatcher thread runs on: the copy runs");

            isolate.beginDrain();
            Isolate.UnloadReport report = isolate.unload(Duration.ofSeconds(30));
            assertEquals(List.of(), report.leftoverThreads(), "the server was stopped, its dispatcher ended");
            try (Socket socket = new Socket()) {
                assertThrows(java.net.ConnectException.class, () -> socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000),
                        "no thread of the unloaded copy serves");
            }
        }
    }

    @Test
    void aDrainingJdkHttpServerEndsEachKeepAliveConnectionAfterItsNextResponseAndSaysSo() throws Exception {
        Path portFile = dir.resolve("port");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = Isolate.builder().id("1").app(AppJar.open(TestApps.jar(dir, "JdkHttpApp"))).host(host).build();
            isolate.start(List.of(portFile.toString()));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> java.nio.file.Files.exists(portFile)
                    && !java.nio.file.Files.readString(portFile).isEmpty());
            int port = Integer.parseInt(java.nio.file.Files.readString(portFile));
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
                socket.setSoTimeout(5_000);
                java.io.InputStream in = socket.getInputStream();
                String first = exchange(socket, in);
                assertFalse(first.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), first);

                isolate.beginDrain();
                String second = exchange(socket, in);
                assertTrue(second.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), second);
                assertTrue(second.endsWith("hello"), "the request on the kept-alive connection was served: " + second);
                assertEquals(-1, in.read(), "then the server closed the connection");
            }
            isolate.unload(Duration.ofSeconds(30));
        }
    }

    /** One GET on a kept-alive connection; the response's head and its 5-byte body. */
    private static String exchange(Socket socket, java.io.InputStream in) throws Exception {
        socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("closed in the head: " + head);
            }
            head.append((char) b);
        }
        return head + new String(in.readNBytes(5), StandardCharsets.US_ASCII);
    }

    private static String talk(InetSocketAddress address, String line) throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(address, 30_000);
            socket.setSoTimeout(30_000);
            if (line != null) {
                OutputStream out = socket.getOutputStream();
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
            // the app reads one line: the end of the stream tells it at once that none (more) comes
            socket.shutdownOutput();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }
}
