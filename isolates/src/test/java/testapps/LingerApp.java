package testapps;

import dev.forkless.api.Worker;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A server whose {@code main} returns at once, as the JDK's HttpServer apps do: a non-daemon thread it
 * started serves on. Each connection gets "hello from ID"; a connection that sends "stop" ends the
 * serving thread (and so the app). args[0]: port; args[1], optional: a file its shutdown hook writes
 * before closing the listener, as a server's graceful shutdown does.
 */
public class LingerApp {
    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(Integer.parseInt(args[0]), 50, InetAddress.getLoopbackAddress());
        String hello = "hello from " + Worker.id() + "\n";
        Thread serving = new Thread(() -> {
            try (server) {
                while (true) {
                    try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                        s.setSoTimeout(30_000); // a client that sends nothing ends its output
                        String line = null;
                        try {
                            line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
                        } catch (java.net.SocketTimeoutException quiet) {
                            // a client that only listens and never ended its output
                        }
                        if ("stop".equals(line)) {
                            out.write("stopping\n".getBytes(StandardCharsets.UTF_8));
                            return;
                        }
                        out.write(hello.getBytes(StandardCharsets.UTF_8));
                    }
                }
            } catch (Exception closed) {
                // the listener was closed under it: the copy is being unloaded
            }
        }, "linger-app-server");
        // no setDaemon: a new thread inherits its creator's flag, non-daemon under a JVM's main thread
        serving.start();
        if (args.length > 1) {
            java.nio.file.Path marker = java.nio.file.Path.of(args[1]);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    java.nio.file.Files.writeString(marker, "graceful shutdown");
                    server.close();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
    }
}
