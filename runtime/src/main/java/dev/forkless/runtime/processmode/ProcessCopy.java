package dev.forkless.runtime.processmode;

import dev.forkless.runtime.listen.SharedListeners;
import dev.forkless.runtime.log.ConsoleRouter;
import dev.forkless.runtime.state.Exchange;
import dev.forkless.runtime.supervisor.Copy;
import dev.forkless.runtime.supervisor.Supervisor;
import dev.forkless.isolate.AppJar;
import dev.forkless.isolate.BadAppException;
import dev.forkless.isolate.Isolate;
import dev.forkless.isolate.SharedSocket;
import dev.forkless.runtime.child.ControlMessage;
import dev.forkless.runtime.child.Unix;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A copy that runs as a child JVM: the same {@code java} as the runtime, running the app as
 * {@code java -jar app.jar} would (its own main class and class path, the system class loader, no
 * isolate loader, no rewriting), with the child agent ({@code forkless-child.jar}, see
 * {@link ChildAgentJar}) before its {@code main}. The app's binds come to this object over the control
 * channel (a Unix domain socket), which answers with the runtime's own listening socket, passed as a
 * descriptor ({@code SCM_RIGHTS}). Every child accepts from that one socket.
 *
 * <p>The child's standard output and error come here through pipes and are printed line by line behind
 * the copy's tag. When the control channel closes, the child halts: no child outlives the runtime.
 */
public final class ProcessCopy implements Copy {

    private static final System.Logger LOG = System.getLogger("forkless.process");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration EXIT_MARGIN = Duration.ofSeconds(3);
    /** The agent passes descriptors over the control socket through java.lang.foreign. */
    private static final List<String> CHILD_JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED");
    /**
     * A child whose heap ran out exits (status 3) and its slot is restarted, even when the app would catch
     * the error and go on broken; before the user's {@code --jvm-arg}s, which may turn it off.
     */
    private static final String EXIT_ON_OOM = "-XX:+ExitOnOutOfMemoryError";
    private static final String NETTY_NO_NATIVE = "io.netty.transport.noNative";
    private static final String CHILD_SELECTOR_PROVIDER = "dev.forkless.child.ChildSelectorProvider";

    private final String id;
    private final AppJar app;
    private final List<String> args;
    private final List<String> jvmArgs;
    private final boolean accepting;
    private final Duration drainTimeout;
    private final SharedListeners listeners;
    private final ConsoleRouter console;
    private final Events events;
    private final Map<String, String> environment;
    private final Exchange exchange;
    private final Object sendLock = new Object();
    private final List<SharedSocket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicBoolean endReported = new AtomicBoolean();
    private final AtomicBoolean readyReported = new AtomicBoolean();
    private final CompletableFuture<String> started = new CompletableFuture<>();
    private final CompletableFuture<Isolate.UnloadReport> unloaded = new CompletableFuture<>();
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private volatile Process process;
    private volatile Thread stdoutPump;
    private volatile Thread stderrPump;
    private volatile SocketChannel control;
    private volatile int controlFd = -1;
    private volatile int openConnections;
    private volatile long requests;
    private volatile long oldestRequestMillis;
    private volatile long acceptorAwayMillis;
    private volatile long statsAt;
    private volatile boolean unloading;

    public ProcessCopy(String id, AppJar app, List<String> args, List<String> jvmArgs, boolean accepting,
                Duration drainTimeout, SharedListeners listeners, ConsoleRouter console, Exchange exchange,
                Events events, Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
        this.exchange = exchange;
        this.id = id;
        this.app = app;
        this.args = List.copyOf(args);
        this.jvmArgs = List.copyOf(jvmArgs);
        this.accepting = accepting;
        this.drainTimeout = drainTimeout;
        this.listeners = listeners;
        this.console = console;
        this.events = events;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String mode() {
        return "process";
    }

    @Override
    public long pid() {
        Process p = process;
        return p == null ? 0 : p.pid();
    }

    /**
     * The child's command line: the app as {@code java -jar app.jar args} runs it (or {@code -cp CLASS_PATH
     * MAIN_CLASS args} for an app given as a class path), plus the child agent and the selector provider
     * that hands the app the runtime's listening socket.
     */
    List<String> command(Path controlPath, String token) {
        List<String> command = new ArrayList<>();
        command.add(javaCommand());
        command.add(EXIT_ON_OOM);
        command.addAll(jvmArgs);
        command.addAll(CHILD_JVM_FLAGS);
        if (jvmArgs.stream().noneMatch(a -> a.startsWith("-D" + NETTY_NO_NATIVE + "="))) {
            // Netty's native transports would bind a socket of their own: NIO runs on the shared socket
            command.add("-D" + NETTY_NO_NATIVE + "=true");
        }
        String options = String.join(",", java.util.stream.Stream.of(controlPath.toString(), token, id,
                String.valueOf(accepting), String.valueOf(drainTimeout.toMillis()), app.mainClass())
                .map(w -> java.net.URLEncoder.encode(w, java.nio.charset.StandardCharsets.UTF_8)).toList());
        command.add("-javaagent:" + ChildAgentJar.path() + "=" + options);
        command.add("-Djava.nio.channels.spi.SelectorProvider=" + CHILD_SELECTOR_PROVIDER);
        if (runsAsJar(app)) {
            command.add("-jar");
            command.add(app.jar().toString());
        } else {
            command.add("-cp");
            command.add(String.join(File.pathSeparator, app.classPath().stream().map(Path::toString).toList()));
            command.add(app.mainClass());
        }
        command.addAll(args);
        return command;
    }

    /** Whether the app is a jar whose manifest names its main class: then the child runs {@code -jar} it. */
    static boolean runsAsJar(AppJar app) {
        Path jar = app.jar();
        if (!Files.isRegularFile(jar)) {
            return false;
        }
        try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
            java.util.jar.Manifest manifest = file.getManifest();
            String main = manifest == null ? null
                    : manifest.getMainAttributes().getValue(java.util.jar.Attributes.Name.MAIN_CLASS);
            return main != null && main.trim().equals(app.mainClass());
        } catch (IOException e) {
            return false;
        }
    }

    static String javaCommand() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    @Override
    public void start() {
        Path dir = null;
        ServerSocketChannel server = null;
        try {
            dir = Files.createTempDirectory("forkless-");
            Path socketPath = dir.resolve("c" + id + ".sock");
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socketPath));
            String token = UUID.randomUUID().toString();
            ProcessBuilder builder = new ProcessBuilder(command(socketPath, token))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            builder.environment().putAll(environment);
            Process p = builder.start();
            process = p;
            stdoutPump = pump(p.getInputStream(), console.outOf(id));
            stderrPump = pump(p.getErrorStream(), console.errOf(id));
            ServerSocketChannel listening = server;
            p.onExit().thenRun(() -> {
                closeQuietly(listening);
                childEnded(p);
            });
            SocketChannel channel = acceptChild(server, token, p);
            control = channel;
            controlFd = Unix.fdOf(channel);
            Supervisor.runtimeThreads().name("forkless-control-" + id).start(() -> readControl(channel));
            exchange.attach(this); // the child waits for the shared state before it starts the app
        } catch (IOException | IllegalStateException | java.io.UncheckedIOException e) {
            Process p = process;
            if (p != null) {
                p.destroyForcibly();
            }
            throw new BadAppException("cannot start a child JVM for copy " + id + ": " + e.getMessage());
        } finally {
            closeQuietly(server);
            deleteQuietly(dir);
        }
        String failure;
        try {
            failure = started.get(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            failure = "the child JVM did not start its app in " + CONNECT_TIMEOUT.toSeconds() + " s";
        }
        if (failure != null) {
            throw new BadAppException(failure);
        }
    }

    private SocketChannel acceptChild(ServerSocketChannel server, String token, Process p) throws IOException {
        SocketChannel channel;
        try {
            channel = server.accept();
        } catch (IOException e) {
            throw new IOException(p.isAlive() ? e.getMessage() : diedBeforeStart(p), e);
        }
        ByteBuffer buffer = ByteBuffer.allocate(512);
        StringBuilder line = new StringBuilder();
        while (line.indexOf("\n") < 0) {
            buffer.clear();
            if (channel.read(buffer) < 0) {
                channel.close();
                throw new IOException(diedBeforeStart(p));
            }
            line.append(new String(buffer.array(), 0, buffer.position(), java.nio.charset.StandardCharsets.UTF_8));
        }
        ControlMessage hello = ControlMessage.decode(line.substring(0, line.indexOf("\n")));
        if (!hello.type().equals(ControlMessage.HELLO) || !hello.arg(0).equals(token)) {
            channel.close();
            throw new IOException("a stranger connected to the control socket");
        }
        String rest = line.substring(line.indexOf("\n") + 1);
        if (!rest.isEmpty()) {
            rest.lines().forEach(l -> onMessage(ControlMessage.decode(l)));
        }
        return channel;
    }

    private String diedBeforeStart(Process p) {
        try {
            p.waitFor(2, TimeUnit.SECONDS);
            for (Thread pump : new Thread[] {stdoutPump, stderrPump}) {
                if (pump != null) {
                    pump.join(Duration.ofSeconds(1));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String tail;
        synchronized (stderrTail) {
            tail = String.join(" | ", stderrTail);
        }
        return "the child JVM exited before starting the app" + (p.isAlive() ? "" : " (status " + p.exitValue() + ")")
                + (tail.isEmpty() ? "" : ": " + tail);
    }

    /** Copies a child's output to the console; the last lines are kept to explain a failed start. */
    private Thread pump(InputStream in, ConsoleRouter.Sink sink) {
        return Supervisor.runtimeThreads().name("forkless-output-" + id).start(() -> {
            byte[] buf = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    sink.write(buf, 0, n);
                    if (!started.isDone()) {
                        remember(new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8));
                    }
                }
            } catch (IOException ignored) {
                // the child is gone
            }
            sink.flushPartial();
        });
    }

    private void remember(String text) {
        synchronized (stderrTail) {
            text.lines().filter(l -> !l.isBlank()).forEach(stderrTail::addLast);
            while (stderrTail.size() > 3) {
                stderrTail.removeFirst();
            }
        }
    }

    private void readControl(SocketChannel channel) {
        ControlMessage.LineSplitter lines = new ControlMessage.LineSplitter();
        ByteBuffer buffer = ByteBuffer.allocate(16384);
        try {
            while (channel.read(buffer.clear()) >= 0) {
                lines.feed(Arrays.copyOf(buffer.array(), buffer.position()), l -> onMessage(ControlMessage.decode(l)));
            }
        } catch (IOException ignored) {
            // closed
        }
    }

    private void onMessage(ControlMessage message) {
        switch (message.type()) {
            case ControlMessage.STARTED -> started.complete(null);
            case ControlMessage.BAD_APP -> started.complete(message.arg(0));
            case ControlMessage.BIND -> Supervisor.runtimeThreads().start(() -> bind(message));
            case ControlMessage.READY -> {
                if (readyReported.compareAndSet(false, true)) {
                    events.ready(this);
                }
            }
            case ControlMessage.STATS -> {
                openConnections = Integer.parseInt(message.arg(0));
                requests = Long.parseLong(message.arg(1));
                oldestRequestMillis = Long.parseLong(message.arg(2));
                acceptorAwayMillis = Long.parseLong(message.arg(3));
                statsAt = System.nanoTime();
            }
            case ControlMessage.EXITED -> {
                if (endReported.compareAndSet(false, true)) {
                    events.exited(this, Integer.parseInt(message.arg(0)));
                }
            }
            case ControlMessage.CRASHED -> {
                if (endReported.compareAndSet(false, true)) {
                    events.crashed(this, new ChildCrash(message.arg(0), message.arg(1)));
                }
            }
            case ControlMessage.UNLOADED -> unloaded.complete(new Isolate.UnloadReport(
                    Integer.parseInt(message.arg(0)),
                    message.arg(1).isEmpty() ? List.of() : List.of(message.arg(1).split(","))));
            case ControlMessage.DRAINING -> { }
            case ControlMessage.MSG -> exchange.fromCopy(this, message.appMessage(), message.relay());
            case ControlMessage.PUT -> {
                String error = "";
                try {
                    exchange.put(message.arg(1), message.arg(3).equals("1") ? message.arg(2) : null);
                } catch (RuntimeException e) {
                    error = String.valueOf(e.getMessage());
                }
                send(ControlMessage.of(ControlMessage.PUT_DONE, message.arg(0), error), -1);
            }
            default -> LOG.log(System.Logger.Level.WARNING, "unknown message from child " + id + ": " + message.type());
        }
    }

    private void bind(ControlMessage request) {
        String req = request.arg(0);
        try {
            InetSocketAddress address = new InetSocketAddress(request.arg(1), Integer.parseInt(request.arg(2)));
            SharedSocket socket = listeners.bind(address, Integer.parseInt(request.arg(3)), options(request.arg(4)));
            sockets.add(socket);
            send(ControlMessage.of(ControlMessage.BOUND, req), Unix.fdOf(socket.channel()));
        } catch (IOException e) {
            events.bindFailed(this, e);
            send(ControlMessage.of(ControlMessage.BIND_FAILED, req, String.valueOf(e.getMessage())), -1);
        } catch (RuntimeException e) {
            send(ControlMessage.of(ControlMessage.BIND_FAILED, req, String.valueOf(e)), -1);
        }
    }

    private static Map<SocketOption<?>, Object> options(String text) {
        Map<SocketOption<?>, Object> options = new HashMap<>();
        for (String pair : text.split(",")) {
            int eq = pair.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String name = pair.substring(0, eq);
            String value = pair.substring(eq + 1);
            switch (name) {
                case "SO_RCVBUF" -> options.put(StandardSocketOptions.SO_RCVBUF, Integer.parseInt(value));
                case "SO_REUSEADDR" -> options.put(StandardSocketOptions.SO_REUSEADDR, Boolean.parseBoolean(value));
                default -> { } // SO_REUSEPORT: the socket is shared by passing it, not by reusing its port
            }
        }
        return options;
    }

    private boolean send(ControlMessage message, int fd) {
        int socket = controlFd;
        if (socket < 0) {
            return false;
        }
        synchronized (sendLock) {
            try {
                Unix.send(socket, message.encode(), fd);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
    }

    /** The child JVM ended: if it said nothing of why, say it here. */
    private void childEnded(Process p) {
        int status = p.exitValue();
        boolean appStarted = started.isDone() && started.getNow("") == null;
        started.complete(diedBeforeStart(p));
        if (!appStarted) {
            endReported.set(true); // start() fails with the reason: no end to report
        }
        unloaded.complete(new Isolate.UnloadReport(openConnections, List.of()));
        openConnections = 0;
        if (unloading || !endReported.compareAndSet(false, true)) {
            return;
        }
        if (status > 128) {
            events.crashed(this, new ChildCrash("child JVM pid " + p.pid() + " was killed by " + signal(status - 128)
                    + " (status " + status + ")", ""));
        } else {
            events.exited(this, status);
        }
    }

    private static String signal(int number) {
        return switch (number) {
            case 9 -> "SIGKILL";
            case 15 -> "SIGTERM";
            case 6 -> "SIGABRT";
            case 11 -> "SIGSEGV";
            case 2 -> "SIGINT";
            default -> "signal " + number;
        };
    }

    @Override
    public void startAccepting() {
        send(ControlMessage.of(ControlMessage.ACCEPT), -1);
    }

    @Override
    public void beginDrain() {
        send(ControlMessage.of(ControlMessage.DRAIN), -1);
    }

    @Override
    public int openConnections() {
        Process p = process;
        return p == null || !p.isAlive() ? 0 : openConnections;
    }

    @Override
    public String hung(Duration timeout) {
        long sinceStats = (System.nanoTime() - statsAt) / 1_000_000;
        long limit = timeout.toMillis();
        if (oldestRequestMillis > 0 && oldestRequestMillis + sinceStats > limit) {
            return "a request has been in flight for " + (oldestRequestMillis + sinceStats) + " ms";
        }
        if (acceptorAwayMillis > 0 && acceptorAwayMillis + sinceStats > limit) {
            return "its acceptor has not taken a connection for " + (acceptorAwayMillis + sinceStats) + " ms";
        }
        return null;
    }

    @Override
    public long requests() {
        return requests;
    }

    /**
     * Asks the child to unload its app and exit; after {@code grace} (and a margin for the JVM's own exit)
     * it gets SIGTERM, then SIGKILL.
     */
    @Override
    public Isolate.UnloadReport unload(Duration grace) {
        exchange.detach(this);
        unloading = true;
        Process p = process;
        Isolate.UnloadReport report = new Isolate.UnloadReport(0, List.of());
        if (p != null) {
            if (!send(ControlMessage.of(ControlMessage.UNLOAD, grace.toMillis()), -1)) {
                p.destroy();
            }
            try {
                if (!p.waitFor(grace.plus(EXIT_MARGIN).toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.log(System.Logger.Level.WARNING, "child " + id + " (pid " + p.pid() + ") did not exit: killing it");
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
            report = unloaded.getNow(report);
        }
        sockets.forEach(SharedSocket::release);
        sockets.clear();
        closeQuietly(control);
        return report;
    }

    @Override
    public boolean deliver(dev.forkless.api.Message message) {
        return send(ControlMessage.of(message, false), -1);
    }

    @Override
    public void sharedSnapshot(Map<String, String> all) {
        List<String> words = new ArrayList<>();
        all.forEach((k, v) -> {
            words.add(k);
            words.add(v);
        });
        send(new ControlMessage(ControlMessage.SNAPSHOT, words), -1);
    }

    @Override
    public void sharedChanged(String key, String value) {
        send(ControlMessage.of(ControlMessage.STATE, key, value == null ? "" : value, value == null ? "0" : "1"), -1);
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        if (closeable != null) {
            try {
                closeable.close();
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a temp folder left behind
        }
    }

    @Override
    public String toString() {
        return "process " + id + " (pid " + pid() + ")";
    }

    /** A crash reported by a child JVM: its text and stack trace as the child printed them. */
    static final class ChildCrash extends Exception {
        private final String text;
        private final String trace;

        ChildCrash(String text, String trace) {
            super(text, null, false, false);
            this.text = text;
            this.trace = trace;
        }

        @Override
        public String toString() {
            return text;
        }

        @Override
        public void printStackTrace(PrintWriter s) {
            s.print(trace.isEmpty() ? text + System.lineSeparator() : trace);
        }

        @Override
        public void printStackTrace(PrintStream s) {
            s.print(trace.isEmpty() ? text + System.lineSeparator() : trace);
        }
    }
}
