package testapps;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Stops as Tomcat does: its shutdown hook wakes the acceptor, blocked in {@code accept()}, by connecting to
 * its own listening address, and waits for it to end; an idle worker of a cached pool (as the JDK
 * HttpServer apps give their server) is never shut down. Each connection gets "hello". args[0]: port;
 * args[1]: a file the hook writes {@code woken} or {@code not woken} to.
 */
public class UnlockApp {
    private static volatile boolean stopping;

    public static void main(String[] args) throws Exception {
        ServerSocket server = new ServerSocket(Integer.parseInt(args[0]), 50, InetAddress.getLoopbackAddress());
        ExecutorService pool = Executors.newCachedThreadPool();
        Thread acceptor = new Thread(() -> {
            while (!stopping) {
                try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                    if (!stopping) {
                        pool.submit(() -> { }).get(); // leaves an idle worker
                        out.write("hello\n".getBytes(StandardCharsets.UTF_8));
                    }
                } catch (Exception e) {
                    return;
                }
            }
        }, "unlock-app-acceptor");
        acceptor.start();
        Path marker = Path.of(args[1]);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                stopping = true;
                try (Socket unlock = new Socket()) {
                    unlock.connect(server.getLocalSocketAddress(), 30_000);
                }
                acceptor.join(30_000); // returns as soon as it ends
                Files.writeString(marker, acceptor.isAlive() ? "not woken" : "woken");
                server.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }));
    }
}
