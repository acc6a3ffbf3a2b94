package dev.forkless.runtime.listen;

import dev.forkless.runtime.supervisor.Supervisor;
import dev.forkless.runtime.child.Unix;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Hands a runtime's listening sockets to a fresh runtime JVM, as nginx's binary upgrade does: the new
 * runtime takes the same kernel sockets (their backlogs included) over a Unix domain socket
 * ({@code SCM_RIGHTS}), starts its copies on them and says it is ready; then the old runtime drains its
 * copies and exits. Clients see one service throughout; whatever the old JVM could not stop (threads
 * leaked by isolates) ends with it.
 */
public final class Handover {

    /** The option that tells a runtime to take over another's sockets from a Unix socket path. */
    public static final String TAKE_OVER = "--take-over";

    private Handover() {
    }

    /**
     * The old runtime's side: starts the new runtime and passes it every listening socket.
     *
     * @param listeners    the running runtime's listening sockets
     * @param commandFor   the new runtime's command line, given the path it must take the sockets from
     * @param readyTimeout how long the new runtime gets to become ready
     * @return the new runtime's process, ready
     * @throws IOException when the new runtime could not take over (the old one keeps serving)
     */
    public static Process give(SharedListeners listeners, Function<Path, List<String>> commandFor, Duration readyTimeout)
            throws IOException {
        Path dir = Files.createTempDirectory("forkless-handover",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path path = dir.resolve("s");
        Process process = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            process = new ProcessBuilder(commandFor.apply(path)).inheritIO().start();
            Process started = process;
            CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
            Supervisor.runtimeThreads().start(() -> {
                try {
                    accepted.complete(server.accept());
                } catch (IOException e) {
                    accepted.completeExceptionally(e);
                }
            });
            started.onExit().thenRun(() -> accepted.completeExceptionally(
                    new IOException("the new runtime exited with " + started.exitValue())));
            try (SocketChannel connection = accepted.get(readyTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                int fd = Unix.fdOf(connection);
                for (Map.Entry<InetSocketAddress, ServerSocketChannel> listener : listeners.channels().entrySet()) {
                    InetSocketAddress requested = listener.getKey();
                    String line = "listener " + requested.getHostString() + " " + requested.getPort() + "\n";
                    Unix.send(fd, line.getBytes(StandardCharsets.UTF_8), Unix.fdOf(listener.getValue()));
                    expect(connection, "ok");
                }
                Unix.send(fd, "done\n".getBytes(StandardCharsets.UTF_8), -1);
                CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> readLine(connection),
                        command -> Supervisor.runtimeThreads().start(command));
                String answer = ready.get(readyTimeout.toMillis(), TimeUnit.MILLISECONDS);
                if (!answer.startsWith("ready")) {
                    throw new IOException("the new runtime answered '" + answer + "'");
                }
                return process;
            }
        } catch (IOException e) {
            destroy(process);
            throw e;
        } catch (Exception e) {
            destroy(process);
            throw new IOException("the new runtime did not take over: " + (e.getCause() == null ? e : e.getCause()), e);
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The new runtime's side, before it starts its copies: takes every socket the old runtime passes.
     *
     * @param listeners the new runtime's listening sockets, before it starts
     * @param path     the old runtime's Unix socket
     * @return the link to the old runtime, to say ready on
     * @throws IOException when the sockets cannot be taken
     */
    public static Taken take(SharedListeners listeners, String path) throws IOException {
        int fd = Unix.connect(path);
        boolean first = true;
        StringBuilder pending = new StringBuilder();
        while (true) {
            Unix.Received received = Unix.receive(fd, 4096);
            if (received.data().length == 0 && received.fd() < 0) {
                throw new IOException("the old runtime closed the handover");
            }
            pending.append(new String(received.data(), StandardCharsets.UTF_8));
            int newline = pending.indexOf("\n");
            if (newline < 0) {
                continue;
            }
            String line = pending.substring(0, newline);
            pending.delete(0, newline + 1);
            if (line.equals("done")) {
                return new Taken(fd);
            }
            String[] words = line.split(" ");
            if (!words[0].equals("listener") || received.fd() < 0) {
                throw new IOException("unexpected handover message: " + line);
            }
            ServerSocketChannel channel = Unix.listeningChannel(received.fd(), first);
            first = false;
            listeners.adopt(new InetSocketAddress(words[1], Integer.parseInt(words[2])), channel);
            Unix.send(fd, "ok\n".getBytes(StandardCharsets.UTF_8), -1);
        }
    }

    /** The new runtime's link to the old one. */
    public static final class Taken {
        private final int fd;

        private Taken(int fd) {
            this.fd = fd;
        }

        /** Tells the old runtime that this one serves: it drains and exits. */
        public void ready() throws IOException {
            Unix.send(fd, ("ready " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8), -1);
            Unix.close(fd);
        }
    }

    private static void expect(SocketChannel connection, String word) throws IOException {
        String line = readLine(connection);
        if (!line.equals(word)) {
            throw new IOException("the new runtime answered '" + line + "', not " + word);
        }
    }

    private static String readLine(SocketChannel connection) {
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        try {
            while (true) {
                one.clear();
                if (connection.read(one) < 0) {
                    return line.length() == 0 ? "closed" : line.toString();
                }
                char c = (char) one.get(0);
                if (c == '\n') {
                    return line.toString();
                }
                line.append(c);
            }
        } catch (IOException e) {
            return "closed: " + e.getMessage();
        }
    }

    private static void destroy(Process process) {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
