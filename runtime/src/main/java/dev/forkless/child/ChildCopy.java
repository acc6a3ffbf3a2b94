package dev.forkless.child;

import dev.forkless.isolate.AcceptDispatcher;
import dev.forkless.isolate.KeepAliveOff;
import dev.forkless.isolate.ListenerOwner;
import dev.forkless.isolate.ListenerView;
import dev.forkless.isolate.SharedSocket;
import dev.forkless.runtime.child.ControlCodec;
import dev.forkless.runtime.child.ControlMessage;
import dev.forkless.runtime.child.Unix;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * The one copy of the app a child JVM runs, as the runtime sees it: the control channel (a Unix domain
 * socket to the runtime), the listening sockets the runtime hands over, whether the copy takes
 * connections, its drain, its messages and shared state, and how it ends.
 *
 * <p>One per JVM: the selector provider, the Helidon drain adapter and the app API find it through
 * {@link #current()}, the one piece of static state, set once by the agent before the app's
 * {@code main} (a JVM-wide hook, as the agent itself is).
 */
public final class ChildCopy implements ListenerOwner {

    private static final Duration BIND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PUT_TIMEOUT = Duration.ofSeconds(30);
    private static final CompletableFuture<ChildCopy> CURRENT = new CompletableFuture<>();

    private final int control;
    private final String id;
    private final long drainMillis;
    private final Object sendLock = new Object();
    /** Stats are sampled and sent under it: none sampled before the drain goes after {@code Draining}. */
    private final Object statsLock = new Object();
    private final AtomicInteger requestIds = new AtomicInteger();
    private final Map<String, CompletableFuture<Integer>> pendingBinds = new ConcurrentHashMap<>();
    private final BlockingQueue<Integer> receivedFds = new LinkedBlockingQueue<>();
    private final Map<InetSocketAddress, AcceptDispatcher> sockets = new HashMap<>();
    private final List<ListenerView> listeners = new CopyOnWriteArrayList<>();
    /** What a standby requests of itself ({@link dev.forkless.isolate.WarmUp}); null: nothing. */
    private volatile String warmUpPath;
    private final java.util.concurrent.atomic.AtomicBoolean warmingUp = new java.util.concurrent.atomic.AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicBoolean readyReported = new AtomicBoolean();
    private final AtomicBoolean exitReported = new AtomicBoolean();
    /** The child itself ends the JVM (stop, halt when the runtime is gone): no drain before it. */
    private volatile boolean ownExit;
    private final Map<String, String> state = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> snapshotReceived = new CompletableFuture<>();
    private final Map<String, CompletableFuture<String>> pendingPuts = new ConcurrentHashMap<>();
    private final BlockingQueue<Runnable> inbox;
    private final boolean inboxBlocks;
    private final List<BiConsumer<String, String>> messageHandlers = new CopyOnWriteArrayList<>();
    private final List<BiConsumer<String, String>> stateListeners = new CopyOnWriteArrayList<>();
    private final LongAdder requests = new LongAdder();
    private final RequestClock clock = new RequestClock();
    private volatile boolean accepting;
    private volatile boolean draining;

    private ChildCopy(int control, String id, boolean accepting, long drainMillis) {
        this.control = control;
        this.id = id;
        this.accepting = accepting;
        this.drainMillis = drainMillis;
        String[] inboxSetting = System.getProperty(ChildAgent.INBOX_PROPERTY, "1024:block").split(":");
        this.inbox = new LinkedBlockingQueue<>(Math.max(1, Integer.parseInt(inboxSetting[0])));
        this.inboxBlocks = inboxSetting.length < 2 || !"drop".equals(inboxSetting[1]);
    }

    /** @return this JVM's copy, or {@code null} outside a child JVM */
    public static ChildCopy current() {
        return CURRENT.getNow(null);
    }

    /** Connects to the runtime, proves who started it, and waits for the shared state. Halts on failure. */
    static ChildCopy connect(String controlPath, String token, String id, boolean accepting, long drainMillis) {
        ChildCopy copy;
        try {
            copy = new ChildCopy(Unix.connect(controlPath), id, accepting, drainMillis);
        } catch (IOException e) {
            System.err.println("forkless: child " + id + " cannot reach the runtime: " + e.getMessage());
            Runtime.getRuntime().halt(1);
            throw new IllegalStateException(e);
        }
        Thread.ofPlatform().name("forkless-control").daemon(true).start(copy::readControl);
        copy.send(new ControlMessage.Hello(token, ProcessHandle.current().pid()));
        try {
            copy.snapshotReceived.get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            System.err.println("forkless: child " + id + ": the runtime did not send the shared state");
            copy.exitNow(1);
        }
        CURRENT.complete(copy);
        return copy;
    }

    /** Checks that the app's main class is there, installs the crash and signal handlers, and reports. */
    void start(String mainClass) {
        try {
            Class.forName(mainClass, false, ClassLoader.getSystemClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            send(new ControlMessage.BadApp("cannot load the main class " + mainClass + ": " + e));
            exitNow(2);
        }
        Thread.setDefaultUncaughtExceptionHandler(this::uncaught);
        installSignals();
        Thread.ofPlatform().name("forkless-inbox").daemon(true).start(this::runInbox);
        Thread.ofPlatform().name("forkless-stats").daemon(true).start(this::reportStats);
        send(new ControlMessage.Started());
    }

    /** @return the copy's id */
    public String id() {
        return id;
    }

    // ---- listeners ----

    /** Whether a listener takes connections now: not before the runtime says so, never while draining. */
    @Override
    public boolean isAccepting() {
        return accepting && !draining;
    }

    /** @return whether the copy drains: it takes no new connection, and closes idle ones */
    public boolean isDraining() {
        return draining;
    }

    @Override
    public void bound(ListenerView view) {
        listeners.add(view);
        view.setAccepting(isAccepting());
    }

    @Override
    public void closed(ListenerView view) {
        listeners.remove(view);
    }

    /** The app's acceptor runs: the copy is ready; a standby warms itself up until it is promoted. */
    @Override
    public void acceptorStarted(ListenerView view) {
        ready();
        String path = warmUpPath;
        if (path != null && !isAccepting() && !draining && warmingUp.compareAndSet(false, true)) {
            dev.forkless.isolate.WarmUp.start(id, view, path, () -> isAccepting() || draining,
                    ChildSelectorProvider.jdkProvider());
        }
    }

    /** @param path what a standby requests of itself once its acceptor runs; null or empty: nothing */
    void warmUp(String path) {
        warmUpPath = path == null || path.isEmpty() ? null : path;
    }

    /** The copy is ready to serve (its acceptor runs, or the app said so). */
    public void ready() {
        if (readyReported.compareAndSet(false, true)) {
            send(new ControlMessage.Ready());
        }
    }

    private void setAccepting(boolean on) {
        accepting = on;
        for (ListenerView listener : listeners) {
            listener.setAccepting(isAccepting());
        }
    }

    /** Stops taking connections at once; keep-alive connections close after their current response. */
    private void beginDrain() {
        draining = true;
        for (ListenerView listener : listeners) {
            listener.setAccepting(false);
        }
        // Tomcat, Jetty, Netty, the JDK HttpServer: each connection ends after its next response, which says
        // so (Helidon has its adapter; the app's shutdown hooks run when the copy is unloaded)
        KeepAliveOff.nowAndSoon(ChildCopy::liveThreads, () -> {
            List<java.nio.channels.SocketChannel> open = new java.util.ArrayList<>();
            listeners.forEach(l -> open.addAll(l.connections()));
            return open;
        });
        // The stats first, then Draining: the count now holds every connection the app took (no view takes
        // one any more), and the runtime trusts a draining copy's count only once Draining came. The stats
        // sent before are samples (every 50 ms) that can miss a connection taken just before the drain:
        // unloaded on such a count, the copy would close it before answering its first request.
        synchronized (statsLock) {
            sendStats();
            send(new ControlMessage.Draining());
        }
    }

    private static List<Thread> liveThreads() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] all = new Thread[root.activeCount() + 32];
        int n = root.enumerate(all, true);
        return List.of(java.util.Arrays.copyOf(all, n));
    }

    int openConnections() {
        int open = 0;
        for (ListenerView listener : listeners) {
            open += listener.openConnections();
        }
        return open;
    }

    /**
     * The runtime's listening socket for an address, with this JVM's dispatcher on it: asked for once per
     * address, then shared by every listener of the app on it. The dispatcher is lazy: the app's accept
     * takes each connection from the kernel, and only while its view takes connections, so a standby,
     * draining or ending child leaves connections in the kernel's backlog for the other children.
     */
    @Override
    public SharedSocket bind(SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options)
            throws IOException {
        InetSocketAddress key = key(requested);
        synchronized (sockets) {
            AcceptDispatcher dispatcher = sockets.get(key);
            if (dispatcher == null) {
                ServerSocketChannel received = requestSocket(key, backlog, options);
                // lazy: a connection stays in the kernel's backlog until the app accepts it, so a JVM that
                // ends (exit, halt, unload) leaves what it did not take to the other children
                dispatcher = AcceptDispatcher.lazy(received, key.getHostString() + ":" + key.getPort());
                sockets.put(key, dispatcher);
            }
            return SharedSocket.of(dispatcher);
        }
    }

    private ServerSocketChannel requestSocket(InetSocketAddress key, int backlog, Map<SocketOption<?>, Object> options)
            throws IOException {
        String req = String.valueOf(requestIds.incrementAndGet());
        CompletableFuture<Integer> reply = new CompletableFuture<>();
        pendingBinds.put(req, reply);
        String host = key.getAddress() != null ? key.getAddress().getHostAddress() : key.getHostString();
        Map<String, String> opts = options.entrySet().stream()
                .collect(Collectors.toMap(e -> e.getKey().name(), e -> String.valueOf(e.getValue())));
        send(new ControlMessage.Bind(req, host, key.getPort(), backlog, opts));
        int fd;
        try {
            fd = reply.get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("the runtime did not answer the bind of " + key);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while binding " + key);
        } finally {
            pendingBinds.remove(req);
        }
        ServerSocketChannel channel = Unix.listeningChannel(fd, false);
        channel.configureBlocking(false);
        return channel;
    }

    private static InetSocketAddress key(SocketAddress requested) {
        if (requested == null) {
            return new InetSocketAddress(0);
        }
        if (requested instanceof InetSocketAddress inet) {
            return inet.isUnresolved() ? new InetSocketAddress(inet.getHostString(), inet.getPort()) : inet;
        }
        throw new UnsupportedOperationException("cannot share a listener on " + requested);
    }

    // ---- requests (the Helidon adapter reports them) ----

    /** A request starts on the calling thread. */
    public void requestStarted() {
        requests.increment();
        clock.started();
    }

    /** The calling thread's request ended. */
    public void requestFinished() {
        clock.finished();
    }

    // ---- messages and shared state (the app API) ----

    /**
     * Sends an app message to the runtime.
     *
     * @param kind    {@code t} (text) or {@code b} (base64 bytes)
     * @param payload the text or the base64 bytes
     * @param relay   pass it on to every copy
     * @return whether it was sent
     */
    public boolean sendMessage(String kind, String payload, boolean relay) {
        return send(new ControlMessage.AppMessage("b".equals(kind), payload, relay));
    }

    /** @param handler receives (kind, payload) of each message from the runtime, on the inbox thread */
    public void onMessage(BiConsumer<String, String> handler) {
        messageHandlers.add(handler);
    }

    /** @param listener receives (key, value or null) of each change, on the inbox thread */
    public void onChange(BiConsumer<String, String> listener) {
        stateListeners.add(listener);
    }

    /** @return the value of a key of the shared state */
    public String get(String key) {
        return state.get(key);
    }

    /** @return the shared state as this copy sees it */
    public Map<String, String> all() {
        return Map.copyOf(state);
    }

    /**
     * Changes a key for every copy; returns once the runtime took the change.
     *
     * @param key   the key
     * @param value the value, or {@code null} to remove it
     */
    public void put(String key, String value) {
        String req = String.valueOf(requestIds.incrementAndGet());
        CompletableFuture<String> reply = new CompletableFuture<>();
        pendingPuts.put(req, reply);
        try {
            send(new ControlMessage.Put(req, key, value));
            String error = reply.get(PUT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (error != null) {
                throw new IllegalStateException(error);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while changing the shared state");
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the runtime did not take the shared state change of " + key);
        } finally {
            pendingPuts.remove(req);
        }
    }

    private void enqueue(Runnable task) {
        if (inboxBlocks) {
            try {
                inbox.put(task);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            inbox.offer(task);
        }
    }

    private void runInbox() {
        while (true) {
            Runnable task;
            try {
                task = inbox.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                task.run();
            } catch (Throwable t) {
                uncaught(Thread.currentThread(), t);
            }
        }
    }

    // ---- the control channel ----

    boolean send(ControlMessage.ToRuntime message) {
        synchronized (sendLock) {
            try {
                Unix.send(control, ControlCodec.encode(message), -1);
                return true;
            } catch (IOException e) {
                return false; // the runtime is gone: the reader sees the end and halts
            }
        }
    }

    private void readControl() {
        ControlCodec.LineSplitter lines = new ControlCodec.LineSplitter();
        try {
            while (true) {
                Unix.Received received = Unix.receive(control, 16384);
                if (received.fd() >= 0) {
                    receivedFds.add(received.fd());
                }
                if (received.data().length == 0) {
                    break;
                }
                lines.feed(received.data(), this::onLine);
            }
        } catch (IOException e) {
            // the channel failed: as if it closed
        }
        // No child outlives its runtime: the channel closed, so the runtime is gone (or gave up on us).
        if (!stopping.get()) {
            ownExit = true;
            System.err.flush();
            Runtime.getRuntime().halt(1);
        }
    }

    /** One line from the runtime; a line that is no message the runtime sends is reported and skipped. */
    private void onLine(String line) {
        try {
            onCommand(ControlCodec.decodeFromRuntime(line));
        } catch (ControlCodec.MalformedMessageException e) {
            System.err.println("forkless: child " + id + ": malformed control message: " + e.getMessage());
        }
    }

    private void onCommand(ControlMessage.ToChild message) {
        switch (message) {
            case ControlMessage.Bound(String request) -> {
                CompletableFuture<Integer> reply = pendingBinds.get(request);
                Integer fd = receivedFds.poll();
                if (reply == null || fd == null) {
                    if (fd != null) {
                        Unix.close(fd);
                    }
                    return;
                }
                reply.complete(fd);
            }
            case ControlMessage.BindFailed(String request, String reason) -> {
                CompletableFuture<Integer> reply = pendingBinds.get(request);
                if (reply != null) {
                    reply.completeExceptionally(new BindException(reason));
                }
            }
            case ControlMessage.Accept _ -> setAccepting(true);
            case ControlMessage.Instance(int number) ->
                    System.setProperty(ChildAgent.INSTANCE_PROPERTY, String.valueOf(number));
            case ControlMessage.Drain _ -> beginDrain();
            case ControlMessage.AppMessage(boolean binary, String payload, boolean _) -> {
                String kind = binary ? "b" : "t";
                enqueue(() -> messageHandlers.forEach(h -> h.accept(kind, payload)));
            }
            case ControlMessage.Snapshot(Map<String, String> all) -> {
                state.putAll(all);
                snapshotReceived.complete(null);
            }
            case ControlMessage.State(String key, String value) -> {
                if (value == null) {
                    state.remove(key);
                } else {
                    state.put(key, value);
                }
                if (!stateListeners.isEmpty()) {
                    enqueue(() -> stateListeners.forEach(l -> l.accept(key, state.get(key))));
                }
            }
            case ControlMessage.PutDone(String request, String error) -> {
                CompletableFuture<String> reply = pendingPuts.get(request);
                if (reply != null) {
                    reply.complete(error);
                }
            }
            case ControlMessage.Unload(long grace) ->
                // the runtime has drained this copy for the drain timeout: what is still open is closed now
                    Thread.ofPlatform().name("forkless-unload").start(() -> stop(0, Duration.ofMillis(grace), true));
        }
    }

    // ---- how the copy ends ----

    /**
     * The app calls {@code Runtime.exit} or {@code halt} (any path): the copy reports its exit, stops
     * taking connections and, for at most the drain timeout, lets its open connections close between
     * requests; then the JVM goes on exiting (shutdown hooks for {@code exit}, none for {@code halt}).
     */
    void beforeExit(int status) {
        if (ownExit || stopping.get() || !exitReported.compareAndSet(false, true)) {
            return;
        }
        sendStats();
        send(new ControlMessage.Exited(status));
        if (!draining) {
            beginDrain();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        while (openConnections() > 0 && System.nanoTime() < deadline && !ownExit) {
            sleep(10);
        }
    }

    private void uncaught(Thread thread, Throwable cause) {
        StringWriter trace = new StringWriter();
        cause.printStackTrace(new PrintWriter(trace));
        System.err.print("Exception in thread \"" + thread.getName() + "\" " + trace);
        sendStats();
        send(new ControlMessage.Crashed(String.valueOf(cause), trace.toString()));
    }

    /** INT is the runtime's to handle (a terminal's Ctrl-C reaches the whole process group); TERM drains. */
    private void installSignals() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sun.misc.SignalHandler.SIG_IGN);
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"),
                    s -> Thread.ofPlatform().name("forkless-sigterm").start(() -> stop(143, Duration.ofMillis(drainMillis), false)));
        } catch (IllegalArgumentException unsupported) {
            // keep the JVM's defaults
        }
    }

    /**
     * Stops the copy as the app would stop alone on SIGTERM: no new connection at once, then
     * {@code System.exit}, which runs the app's shutdown hooks (its servers' graceful shutdown); halted
     * if that takes longer than {@code grace}. With {@code closeConnections} (an unload, after the
     * runtime's drain timeout) the connections still open are closed first, as an isolate's are.
     */
    private void stop(int status, Duration grace, boolean closeConnections) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        ownExit = true;
        if (!draining) {
            beginDrain();
        }
        int forced = 0;
        if (closeConnections) {
            for (ListenerView listener : listeners) {
                forced += listener.closeConnections();
            }
        }
        int closedByForce = forced; // what the runtime reports as the drain's forced connections
        Thread.ofPlatform().daemon(true).name("forkless-stop-timeout").start(() -> {
            sleep(Math.max(1, grace.toMillis()));
            send(new ControlMessage.Unloaded(closedByForce + openConnections(), List.of()));
            exitNow(status);
        });
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                send(new ControlMessage.Unloaded(closedByForce, List.of()));
            }, "forkless-unloaded"));
        } catch (IllegalStateException exiting) {
            // the app is exiting already (it called exit, the runtime asked this copy to unload meanwhile):
            // its exit goes on; the stop timeout above still ends it
            return;
        }
        System.exit(status);
    }

    private void exitNow(int status) {
        ownExit = true;
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }

    // ---- stats for the runtime's watchdog and drain ----

    private void reportStats() {
        int lastOpen = -1;
        long lastRequests = -1;
        long lastSent = 0;
        boolean described = false;
        boolean lastStuck = false;
        boolean lastAway = false;
        boolean lastOldest = false;
        while (true) {
            synchronized (statsLock) { // sampled and sent together (see beginDrain)
                int open = openConnections();
                long served = requests.sum();
                long now = System.nanoTime();
                long oldest = clock.oldestNanos(now);
                long away = acceptorAwayNanos(now);
                boolean stuck = oldest > 500_000_000L || away > 500_000_000L;
                if (away > 3_000_000_000L && !described) {
                    // once per episode: what the listener and its dispatcher were doing (to diagnose a stall)
                    described = true;
                    for (ListenerView listener : listeners) {
                        System.getLogger("forkless.listener").log(System.Logger.Level.WARNING, "the app has taken "
                                + "no connection for " + away / 1_000_000 + " ms: " + listener.describe());
                    }
                } else if (away == 0) {
                    described = false;
                }
                // The runtime's watchdog adds the time since the last stats to the waits they reported: an acceptor
                // that was away (even 1 ms) and is back must say so, or a copy that then gets no connection for a
                // while (a freshly promoted one, when keep-alive clients stay on the others) looks hung; CI saw
                // that. So a change goes at once, and the stats go at least every second whatever happens.
                if (open != lastOpen || stuck != lastStuck
                        || (away >= 1_000_000) != lastAway || (oldest >= 1_000_000) != lastOldest
                        || now - lastSent > 1_000_000_000L
                        || ((served != lastRequests || stuck) && now - lastSent > 250_000_000L)) {
                    send(new ControlMessage.Stats(open, served, oldest / 1_000_000, away / 1_000_000));
                    lastOpen = open;
                    lastRequests = served;
                    lastSent = now;
                    lastStuck = stuck;
                    lastAway = away >= 1_000_000; // what the runtime sees: milliseconds
                    lastOldest = oldest >= 1_000_000;
                }
            }
            sleep(draining ? 5 : 50);
        }
    }

    private long acceptorAwayNanos(long now) {
        long away = 0;
        for (ListenerView listener : listeners) {
            away = Math.max(away, listener.acceptorAwayNanos(now));
        }
        return away;
    }

    private void sendStats() {
        synchronized (statsLock) {
            long now = System.nanoTime();
            send(new ControlMessage.Stats(openConnections(), requests.sum(),
                    clock.oldestNanos(now) / 1_000_000, acceptorAwayNanos(now) / 1_000_000));
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
