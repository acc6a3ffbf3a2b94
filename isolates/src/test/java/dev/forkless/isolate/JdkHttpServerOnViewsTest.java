package dev.forkless.isolate;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real server that registers its listening channel with a JDK selector, the JDK's own
 * {@code com.sun.net.httpserver.HttpServer}, serving through listener views: two servers in one JVM on
 * one socket, balanced, and one stopping loses no request. Runs in a child JVM because the views reach
 * the server through a JVM-wide {@code SelectorProvider} (the server opens its channel inside JDK code).
 */
class JdkHttpServerOnViewsTest {

    @Test
    void twoJdkHttpServersShareOneSocketThroughViews() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(),
                "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
                "-Djava.nio.channels.spi.SelectorProvider=viewserver.ViewSelectorProvider",
                "-cp", System.getProperty("java.class.path"), "viewserver.TwoHttpServers")
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
             PrintStream in = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8)) {
            String first = out.readLine();
            assertTrue(first != null && first.startsWith("port "), "the child started: " + first);
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    Integer.parseInt(first.substring(5)));

            Map<String, Integer> answers = new HashMap<>();
            for (int i = 0; i < 20; i++) {
                answers.merge(get(address), 1, Integer::sum);
            }
            // round-robin; a turn an acceptor leaves unused for a second (a busy machine's child JVM) passes
            // to the other, as LazyListenerViewTest allows too
            assertEquals(20, answers.values().stream().mapToInt(Integer::intValue).sum(), "every request answered");
            assertTrue(answers.getOrDefault("a", 0) >= 6 && answers.getOrDefault("b", 0) >= 6,
                    "round-robin over the two servers: " + answers);

            in.println("stop a");
            assertEquals("stopped a", out.readLine());
            for (int i = 0; i < 10; i++) {
                assertEquals("b", get(address), "the other server takes every connection");
            }
        } finally {
            child.destroy();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String get(InetSocketAddress address) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(address, 5_000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            List<String> parts = List.of(response.split("\r\n\r\n", 2));
            return parts.get(1);
        }
    }
}
