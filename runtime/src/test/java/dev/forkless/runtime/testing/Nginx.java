package dev.forkless.runtime.testing;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * A real nginx, run in the foreground as a child process of the test, confined to a directory: its
 * configuration, pid file, logs and temporary files all live there. The site file is included into an
 * {@code http} block the way Debian's {@code /etc/nginx/nginx.conf} includes {@code conf.d/*.conf}.
 */
public final class Nginx implements AutoCloseable {

    private final Process process;
    private final Path dir;
    private final InetSocketAddress address;

    private Nginx(Process process, Path dir, InetSocketAddress address) {
        this.process = process;
        this.dir = dir;
        this.address = address;
    }

    /** @return the nginx executable on the PATH or in /usr/sbin, if installed */
    public static Optional<Path> executable() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin" + File.pathSeparator + "/usr/local/sbin";
        return Stream.of(path.split(File.pathSeparator))
                .filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, "nginx"))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** @return a port of 127.0.0.1 that was free a moment ago */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /**
     * Starts nginx with {@code site} (an http-context configuration) and waits until it accepts on
     * {@code port} of 127.0.0.1.
     */
    public static Nginx start(Path executable, Path dir, String site, int port) throws IOException {
        Files.createDirectories(dir.resolve("tmp"));
        Path siteFile = Files.writeString(dir.resolve("site.conf"), site);
        String temp = dir.resolve("tmp").toString();
        String main = """
                worker_processes 2;
                events { worker_connections 512; }
                http {
                    log_format timed '$msec $request_time $upstream_addr $upstream_status $upstream_response_time';
                    access_log %1$s/access.log timed;
                    client_body_temp_path %2$s/body;
                    proxy_temp_path %2$s/proxy;
                    fastcgi_temp_path %2$s/fastcgi;
                    uwsgi_temp_path %2$s/uwsgi;
                    scgi_temp_path %2$s/scgi;
                    include %3$s;
                }
                """.formatted(dir, temp, siteFile);
        Path conf = Files.writeString(dir.resolve("nginx.conf"), main);
        Path errorLog = dir.resolve("error.log");
        ProcessBuilder builder = new ProcessBuilder(executable.toString(), "-p", dir + "/", "-c", conf.toString(),
                "-e", errorLog.toString(), "-g", "daemon off; pid " + dir.resolve("nginx.pid") + ";");
        builder.redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile());
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Nginx nginx = new Nginx(builder.start(), dir, new InetSocketAddress("127.0.0.1", port));
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> !nginx.process.isAlive() || nginx.accepts());
            if (!nginx.process.isAlive()) {
                throw new AssertionError("nginx exited with " + nginx.process.exitValue() + ":\n" + nginx.logs());
            }
        } catch (RuntimeException | Error e) {
            nginx.close();
            throw e;
        }
        return nginx;
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(address, 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** @return where nginx listens */
    public InetSocketAddress address() {
        return address;
    }

    /** @return nginx's own output and its error log, for assertion messages */
    public String logs() {
        StringBuilder out = new StringBuilder();
        for (String name : List.of("stdout.log", "error.log")) {
            Path file = dir.resolve(name);
            try {
                if (Files.exists(file)) {
                    out.append("--- ").append(name).append('\n').append(Files.readString(file));
                }
            } catch (IOException e) {
                out.append(e).append('\n');
            }
        }
        return out.toString();
    }

    /** Stops nginx (SIGTERM: fast shutdown) and waits for it. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
