package dev.forkless.runtime.processmode;

import dev.forkless.runtime.Mode;
import dev.forkless.runtime.listen.SharedListeners;
import dev.forkless.runtime.log.ConsoleRouter;
import dev.forkless.runtime.state.Exchange;
import dev.forkless.runtime.supervisor.Copy;
import dev.forkless.runtime.supervisor.Supervisor;
import dev.forkless.isolate.AppJar;
import dev.forkless.isolate.BadAppException;
import dev.forkless.isolate.Isolate;
import dev.forkless.isolate.SharedSocket;
import dev.forkless.runtime.child.ControlCodec;
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
    /**
     * Whether the child said it drains: the stats it sent before count every connection its app took (those
     * sent before the drain are samples, up to 50 ms old, that can miss one taken just before it).
     */
    private volatile boolean drainCounted;
    /** What the child requests of itself while a standby; null: nothing. */
    private final String warmUp;

    public ProcessCopy(String id, AppJar app, List<String> args, List<String> jvmArgs, boolean accepting,
                Duration drainTimeout, SharedListeners listeners, ConsoleRouter console, Exchange exchange,
                Events events, Map<String, String> environment, String warmUp) {
        this.environment = Map.copyOf(environment);
        this.warmUp = warmUp;
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
    public Mode mode() {
        return Mode.PROCESS;
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
        command.addAll(dev.forkless.runtime.JvmFlags.childDefaults());
        command.addAll(jvmArgs);
        command.addAll(dev.forkless.runtime.JvmFlags.child());
        if (jvmArgs.stream().noneMatch(a -> a.startsWith("-D" + NETTY_NO_NATIVE + "="))) {
            // Netty's native transports would bind a socket of their own: NIO runs on the shared socket
            command.add("-D" + NETTY_NO_NATIVE + "=true");
        }
        String options = String.join(",", java.util.stream.Stream.of(controlPath.toString(), token, id,
                String.valueOf(accepting), String.valueOf(drainTimeout.toMillis()), app.mainClass(),
                warmUp == null ? "" : warmUp)
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
            builder.environment().remove(dev.forkless.runtime.ForklessConfig.INSTANCE_VARIABLE); // a standby has none yet
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
        ControlMessage hello;
        try {
            hello = ControlCodec.decodeFromChild(line.substring(0, line.indexOf("\n")));
        } catch (ControlCodec.MalformedMessageException e) {
            hello = null;
        }
        if (!(hello instanceof ControlMessage.Hello(String sentToken, long _)) || !sentToken.equals(token)) {
            channel.close();
            throw new IOException("a stranger connected to the control socket");
        }
        String rest = line.substring(line.indexOf("\n") + 1);
        if (!rest.isEmpty()) {
            rest.lines().forEach(this::onLine);
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
        ControlCodec.LineSplitter lines = new ControlCodec.LineSplitter();
        ByteBuffer buffer = ByteBuffer.allocate(16384);
        try {
            while (channel.read(buffer.clear()) >= 0) {
                lines.feed(Arrays.copyOf(buffer.array(), buffer.position()), this::onLine);
            }
        } catch (IOException ignored) {
            // closed
        }
    }

    /**
     * One line from the child. A line that is no message a child sends (a bug, or a child that writes on
     * the channel itself) is a crash of that copy, reported once; the reader goes on, so the copy can
     * still be unloaded cleanly.
     */
    private void onLine(String line) {
        ControlMessage.ToRuntime message;
        try {
            message = ControlCodec.decodeFromChild(line);
        } catch (ControlCodec.MalformedMessageException e) {
            LOG.log(System.Logger.Level.WARNING, "child " + id + " sent a malformed control message: " + e.getMessage());
            if (endReported.compareAndSet(false, true)) {
                events.crashed(this, new ChildCrash("the child sent a malformed control message: " + e.getMessage(), ""));
            }
            return;
        }
        try {
            onMessage(message);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "child " + id + ": cannot handle " + message, e);
        }
    }

    private void onMessage(ControlMessage.ToRuntime message) {
        switch (message) {
            case ControlMessage.Started _ -> started.complete(null);
            case ControlMessage.BadApp(String reason) -> started.complete(reason);
            case ControlMessage.Bind bind -> Supervisor.runtimeThreads().start(() -> bind(bind));
            case ControlMessage.Ready _ -> {
                if (readyReported.compareAndSet(false, true)) {
                    events.ready(this);
                }
            }
            case ControlMessage.Stats stats -> {
                openConnections = stats.openConnections();
                requests = stats.requests();
                oldestRequestMillis = stats.oldestRequestMillis();
                acceptorAwayMillis = stats.acceptorAwayMillis();
                statsAt = System.nanoTime();
            }
            case ControlMessage.Exited(int status) -> {
                if (endReported.compareAndSet(false, true)) {
                    events.exited(this, status);
                }
            }
            case ControlMessage.Crashed(String cause, String stackTrace) -> {
                if (endReported.compareAndSet(false, true)) {
                    events.crashed(this, new ChildCrash(cause, stackTrace));
                }
            }
            case ControlMessage.Unloaded(int forced, List<String> threads) ->
                    unloaded.complete(new Isolate.UnloadReport(forced, threads));
            case ControlMessage.Draining _ -> drainCounted = true;
            case ControlMessage.AppMessage app -> exchange.fromCopy(this, app.message(), app.relay());
            case ControlMessage.Put(String request, String key, String value) -> {
                String error = null;
                try {
                    exchange.put(key, value);
                } catch (RuntimeException e) {
                    error = String.valueOf(e.getMessage());
                }
                send(new ControlMessage.PutDone(request, error), -1);
            }
            case ControlMessage.Hello _ -> LOG.log(System.Logger.Level.WARNING, "child " + id + " said hello twice");
        }
    }

    private void bind(ControlMessage.Bind request) {
        String req = request.request();
        try {
            InetSocketAddress address = new InetSocketAddress(request.host(), request.port());
            SharedSocket socket = listeners.bind(address, request.backlog(), options(request.options()));
            sockets.add(socket);
            send(new ControlMessage.Bound(req), Unix.fdOf(socket.channel()));
        } catch (IOException e) {
            events.bindFailed(this, e);
            send(new ControlMessage.BindFailed(req, String.valueOf(e.getMessage())), -1);
        } catch (RuntimeException e) {
            send(new ControlMessage.BindFailed(req, String.valueOf(e)), -1);
        }
    }

    private static Map<SocketOption<?>, Object> options(Map<String, String> requested) {
        Map<SocketOption<?>, Object> options = new HashMap<>();
        for (Map.Entry<String, String> option : requested.entrySet()) {
            String name = option.getKey();
            String value = option.getValue();
            switch (name) {
                case "SO_RCVBUF" -> options.put(StandardSocketOptions.SO_RCVBUF, Integer.parseInt(value));
                case "SO_REUSEADDR" -> options.put(StandardSocketOptions.SO_REUSEADDR, Boolean.parseBoolean(value));
                default -> { } // SO_REUSEPORT: the socket is shared by passing it, not by reusing its port
            }
        }
        return options;
    }

    private boolean send(ControlMessage.ToChild message, int fd) {
        int socket = controlFd;
        if (socket < 0) {
            return false;
        }
        synchronized (sendLock) {
            try {
                Unix.send(socket, ControlCodec.encode(message), fd);
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

    /** The child's environment cannot change: the child agent sets {@code forkless.worker.instance} instead. */
    @Override
    public void takeInstance(int instance) {
        send(new ControlMessage.Instance(instance), -1);
    }

    @Override
    public void startAccepting() {
        send(new ControlMessage.Accept(), -1);
    }

    @Override
    public void beginDrain() {
        send(new ControlMessage.Drain(), -1);
    }

    @Override
    public int openConnections() {
        Process p = process;
        return p == null || !p.isAlive() ? 0 : openConnections;
    }

    @Override
    public boolean drainCounted() {
        Process p = process;
        return drainCounted || p == null || !p.isAlive();
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
            if (!send(new ControlMessage.Unload(grace.toMillis()), -1)) {
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
        return send(ControlMessage.AppMessage.of(message, false), -1);
    }

    @Override
    public void sharedSnapshot(Map<String, String> all) {
        send(new ControlMessage.Snapshot(all), -1);
    }

    @Override
    public void sharedChanged(String key, String value) {
        send(new ControlMessage.State(key, value), -1);
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
