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
     * What the old runtime does at the handover's steps besides passing its sockets.
     */
    public interface Steps {
        /** The new runtime's process started (its pid is known); it has taken nothing yet. */
        default void started(Process process) {
        }

        /**
         * Words passed to the new runtime after the sockets, one {@code key value} line each (the admin
         * port, the admin token): it reads them as {@link Taken#extras()}. Keys and values have no spaces.
         */
        default Map<String, String> extras() {
            return Map.of();
        }

        /**
         * The new runtime's copies serve: let go of what it binds after them (the admin address). Called
         * once, before the new runtime is told to go on; a failure after it is the caller's to undo.
         */
        default void release() {
        }
    }

    /**
     * The old runtime's side for a runtime of one app: starts the new runtime and passes it every
     * listening socket.
     *
     * @see #give(Map, Function, Duration, Steps)
     */
    public static Process give(SharedListeners listeners, Function<Path, List<String>> commandFor, Duration readyTimeout)
            throws IOException {
        return give(Map.of("", listeners), commandFor, readyTimeout, new Steps() { });
    }

    /**
     * The old runtime's side: starts the new runtime and passes it every listening socket of every app,
     * then the {@link Steps#extras}; once its copies serve ({@code started}), {@link Steps#release} lets
     * go of the admin address, and the new runtime says it is ready.
     *
     * <p>The protocol, one line each way: {@code listener HOST PORT [APP]} with the socket attached, answered
     * {@code ok}; {@code KEY VALUE} lines; {@code done}. Then the new runtime: {@code started}, answered
     * {@code released}; {@code ready PID}. A new runtime keeps {@code KEY VALUE} lines it does not know
     * unused, so that a later version may pass more; a new runtime that says {@code ready} without
     * {@code started} is taken as ready (nothing is released then).
     *
     * @param byApp        the running runtime's listening sockets, by app name ("" for a runtime of one app)
     * @param commandFor   the new runtime's command line, given the path it must take the sockets from
     * @param readyTimeout how long the new runtime gets to become ready
     * @param steps        what happens at each step
     * @return the new runtime's process, ready
     * @throws IOException when the new runtime could not take over (the old one keeps serving; the new
     *                     process is killed)
     */
    public static Process give(Map<String, SharedListeners> byApp, Function<Path, List<String>> commandFor,
                               Duration readyTimeout, Steps steps) throws IOException {
        long deadline = System.nanoTime() + readyTimeout.toNanos();
        Path dir = Files.createTempDirectory("forkless-handover",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path path = dir.resolve("s");
        Process process = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            process = new ProcessBuilder(commandFor.apply(path)).inheritIO().start();
            Process started = process;
            steps.started(started);
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
            try (SocketChannel connection = accepted.get(left(deadline), TimeUnit.NANOSECONDS)) {
                started.onExit().thenRun(() -> closeQuietly(connection)); // a read waiting on it ends
                int fd = Unix.fdOf(connection);
                for (Map.Entry<String, SharedListeners> app : byApp.entrySet()) {
                    for (Map.Entry<InetSocketAddress, ServerSocketChannel> listener : app.getValue().channels().entrySet()) {
                        InetSocketAddress requested = listener.getKey();
                        String line = "listener " + requested.getHostString() + " " + requested.getPort()
                                + (app.getKey().isEmpty() ? "" : " " + app.getKey()) + "\n";
                        Unix.send(fd, line.getBytes(StandardCharsets.UTF_8), Unix.fdOf(listener.getValue()));
                        expect(connection, "ok", deadline);
                    }
                }
                for (Map.Entry<String, String> extra : steps.extras().entrySet()) {
                    Unix.send(fd, (extra.getKey() + " " + extra.getValue() + "\n").getBytes(StandardCharsets.UTF_8), -1);
                }
                Unix.send(fd, "done\n".getBytes(StandardCharsets.UTF_8), -1);
                String answer = line(connection, deadline);
                if (answer.equals("started")) {
                    steps.release();
                    Unix.send(fd, "released\n".getBytes(StandardCharsets.UTF_8), -1);
                    answer = line(connection, deadline);
                }
                if (!answer.startsWith("ready")) {
                    throw new IOException(started.isAlive() ? "the new runtime answered '" + answer + "'"
                            : "the new runtime exited with " + started.waitFor() + " before it was ready");
                }
                return process;
            }
        } catch (IOException e) {
            destroy(process);
            throw e;
        } catch (java.util.concurrent.TimeoutException e) {
            destroy(process);
            throw new IOException("the new runtime was not ready within " + readyTimeout.toSeconds() + " s", e);
        } catch (Exception e) {
            destroy(process);
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IOException(cause instanceof IOException io ? io.getMessage()
                    : "the new runtime did not take over: " + cause, e);
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The new runtime's side for a runtime of one app, before it starts its copies.
     *
     * @see #take(Map, String)
     */
    public static Taken take(SharedListeners listeners, String path) throws IOException {
        return take(Map.of("", listeners), path);
    }

    /**
     * The new runtime's side, before it starts its copies: takes every socket the old runtime passes, each
     * into the listeners of the app it names (a socket of one app of a runtime of one app goes to it
     * whatever its name; a socket of an app this runtime does not run is closed here).
     *
     * @param byApp the new runtime's listening sockets by app name, before it starts
     * @param path  the old runtime's Unix socket
     * @return the link to the old runtime, to say started and ready on
     * @throws IOException when the sockets cannot be taken
     */
    public static Taken take(Map<String, SharedListeners> byApp, String path) throws IOException {
        int fd = Unix.connect(path);
        try {
            boolean first = true;
            StringBuilder pending = new StringBuilder();
            Map<String, String> extras = new java.util.LinkedHashMap<>();
            List<String> skipped = new java.util.ArrayList<>();
            int attached = -1; // the socket that came with the bytes in pending
            while (true) {
                int newline = pending.indexOf("\n");
                if (newline < 0) {
                    Unix.Received received = Unix.receive(fd, 4096);
                    if (received.data().length == 0 && received.fd() < 0) {
                        throw new IOException("the old runtime closed the handover");
                    }
                    pending.append(new String(received.data(), StandardCharsets.UTF_8));
                    if (received.fd() >= 0) {
                        Unix.close(attached);
                        attached = received.fd();
                    }
                    continue;
                }
                String line = pending.substring(0, newline);
                pending.delete(0, newline + 1);
                if (line.equals("done")) {
                    Unix.close(attached);
                    return new Taken(fd, extras, skipped);
                }
                String[] words = line.split(" ");
                if (!words[0].equals("listener")) {
                    if (words.length == 2) {
                        extras.put(words[0], words[1]); // a newer runtime's words this one does not use stay unused
                    }
                    continue;
                }
                int socket = attached;
                attached = -1;
                if (socket < 0 || words.length < 3) {
                    throw new IOException("unexpected handover message: " + line);
                }
                SharedListeners listeners = byApp.size() == 1 ? byApp.values().iterator().next()
                        : byApp.get(words.length > 3 ? words[3] : "");
                if (listeners == null) {
                    Unix.close(socket); // an app this runtime no longer runs
                    skipped.add(words[1] + ":" + words[2] + (words.length > 3 ? " (" + words[3] + ")" : ""));
                } else {
                    ServerSocketChannel channel = Unix.listeningChannel(socket, first);
                    first = false;
                    listeners.adopt(new InetSocketAddress(words[1], Integer.parseInt(words[2])), channel);
                }
                Unix.send(fd, "ok\n".getBytes(StandardCharsets.UTF_8), -1);
            }
        } catch (IOException | RuntimeException e) {
            Unix.close(fd);
            throw e instanceof IOException io ? io : new IOException("bad handover message: " + e, e);
        }
    }

    /** The new runtime's link to the old one. */
    public static final class Taken {
        private final int fd;
        private final Map<String, String> extras;
        private final List<String> skipped;

        private Taken(int fd, Map<String, String> extras, List<String> skipped) {
            this.fd = fd;
            this.extras = Map.copyOf(extras);
            this.skipped = List.copyOf(skipped);
        }

        /** @return the old runtime's {@code KEY VALUE} lines ({@link Steps#extras}) */
        public Map<String, String> extras() {
            return extras;
        }

        /** @return the sockets of apps this runtime does not run, closed here ({@code HOST:PORT (APP)}) */
        public List<String> skipped() {
            return skipped;
        }

        /**
         * Tells the old runtime that this one's copies serve, and waits until it let go of what this one
         * binds next (its admin address).
         *
         * @param timeout how long to wait
         * @throws IOException when the old runtime went away or did not answer
         */
        public void started(Duration timeout) throws IOException {
            Unix.send(fd, "started\n".getBytes(StandardCharsets.UTF_8), -1);
            CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> {
                StringBuilder line = new StringBuilder();
                try {
                    while (true) {
                        Unix.Received received = Unix.receive(fd, 1);
                        Unix.close(received.fd());
                        if (received.data().length == 0) {
                            return "closed";
                        }
                        char c = (char) received.data()[0];
                        if (c == '\n') {
                            return line.toString();
                        }
                        line.append(c);
                    }
                } catch (IOException e) {
                    return "closed: " + e.getMessage();
                }
            }, command -> Supervisor.runtimeThreads().start(command));
            String line;
            try {
                line = answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IOException("the old runtime did not let go of its admin address within "
                        + timeout.toSeconds() + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            if (!line.equals("released")) {
                throw new IOException("the old runtime answered '" + line + "'");
            }
        }

        /** Tells the old runtime that this one serves: it drains and exits. */
        public void ready() throws IOException {
            try {
                Unix.send(fd, ("ready " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8), -1);
            } finally {
                Unix.close(fd);
            }
        }

        /** Gives up the link without saying ready: the old runtime keeps serving. */
        public void abandon() {
            Unix.close(fd);
        }
    }

    private static long left(long deadline) {
        return Math.max(1, deadline - System.nanoTime());
    }

    private static void closeQuietly(SocketChannel connection) {
        try {
            connection.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private static void expect(SocketChannel connection, String word, long deadline) throws Exception {
        String line = line(connection, deadline);
        if (!line.equals(word)) {
            throw new IOException("the new runtime answered '" + line + "', not " + word);
        }
    }

    /** The next line from the new runtime, waited for until {@code deadline}. */
    private static String line(SocketChannel connection, long deadline) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> readLine(connection),
                command -> Supervisor.runtimeThreads().start(command));
        return line.get(left(deadline), TimeUnit.NANOSECONDS);
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

    /**
     * Stops a new runtime that did not take over: SIGTERM first (its copies may have served already: they
     * drain), SIGKILL if it is still there after {@link #STOP_GRACE}.
     */
    private static void destroy(Process process) {
        if (process != null && process.isAlive()) {
            process.destroy();
            process.onExit().orTimeout(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)
                    .exceptionally(e -> process.destroyForcibly());
        }
    }

    /** How long a new runtime that did not take over gets to stop before it is killed. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);
}
