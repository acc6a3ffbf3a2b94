package dev.forkless.runtime.child;

import dev.forkless.isolate.AcceptDispatcher;
import dev.forkless.isolate.Isolate;
import dev.forkless.isolate.IsolateHost;
import dev.forkless.isolate.SharedSocket;

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
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * The child JVM's side of process mode: the {@link IsolateHost} of its one isolate, and its end of the
 * control channel. A bind asks the runtime for the listening socket and receives its descriptor; the
 * isolate's lifecycle goes to the runtime as messages; the runtime's commands drive the isolate. When the
 * control channel closes (the runtime died, even by SIGKILL) the child halts at once.
 */
final class ChildHost implements IsolateHost {

    private static final System.Logger LOG = System.getLogger("forkless.child");
    private static final Duration BIND_TIMEOUT = Duration.ofSeconds(30);

    private final int control;
    private final long drainMillis;
    private final Object sendLock = new Object();
    private final AtomicInteger requestIds = new AtomicInteger();
    private final Map<String, CompletableFuture<Integer>> pendingBinds = new ConcurrentHashMap<>();
    private final BlockingQueue<Integer> receivedFds = new LinkedBlockingQueue<>();
    /** The received sockets, each with the dispatcher that feeds the isolate's views from it. */
    private final Map<InetSocketAddress, AcceptDispatcher> sockets = new HashMap<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile Isolate isolate;
    private volatile boolean inheritedUsed;
    private volatile int exitStatus;
    private volatile boolean drainingFast;
    /** The shared state until the isolate is attached; guarded by itself. */
    private final Map<String, String> state = new HashMap<>();
    private final CompletableFuture<Void> snapshotReceived = new CompletableFuture<>();
    private final Map<String, CompletableFuture<String>> pendingPuts = new ConcurrentHashMap<>();
    private static final Duration PUT_TIMEOUT = Duration.ofSeconds(30);

    ChildHost(int control, long drainMillis) {
        this.control = control;
        this.drainMillis = drainMillis;
        Thread.ofPlatform().name("forkless-control").daemon(false).start(this::readControl);
    }

    /** Waits until the runtime sent the shared state: the app must see it from the start of main. */
    void awaitSharedState() throws IOException {
        try {
            snapshotReceived.get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IOException("the runtime did not send the shared state", e);
        }
    }

    void attach(Isolate isolate) {
        synchronized (state) {
            isolate.inbox().stateSnapshot(state);
            this.isolate = isolate;
        }
        Thread.ofVirtual().name("forkless-stats").start(this::reportStats);
    }

    /** INT is the runtime's to handle (a terminal's Ctrl-C reaches the whole process group); TERM drains. */
    void installSignals() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sun.misc.SignalHandler.SIG_IGN);
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> Thread.ofVirtual().start(this::stopBySignal));
        } catch (IllegalArgumentException unsupported) {
            // keep the JVM's defaults
        }
    }

    // ---- IsolateHost ----

    @Override
    public SharedSocket bind(Isolate from, SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options)
            throws IOException {
        InetSocketAddress key = key(requested);
        AcceptDispatcher dispatcher;
        synchronized (sockets) {
            dispatcher = sockets.get(key);
            if (dispatcher == null) {
                ServerSocketChannel received = requestSocket(key, backlog, options);
                dispatcher = new AcceptDispatcher(received, key.getHostString() + ":" + key.getPort());
                sockets.put(key, dispatcher);
            }
        }
        // the runtime owns the socket; the child's descriptor and its dispatcher go with the child
        return SharedSocket.of(dispatcher);
    }

    private ServerSocketChannel requestSocket(InetSocketAddress key, int backlog, Map<SocketOption<?>, Object> options)
            throws IOException {
        String req = String.valueOf(requestIds.incrementAndGet());
        CompletableFuture<Integer> reply = new CompletableFuture<>();
        pendingBinds.put(req, reply);
        String host = key.getAddress() != null ? key.getAddress().getHostAddress() : key.getHostString();
        String opts = options.entrySet().stream().map(e -> e.getKey().name() + "=" + e.getValue())
                .collect(Collectors.joining(","));
        send(ControlMessage.of(ControlMessage.BIND, req, host, key.getPort(), backlog, opts));
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
        ServerSocketChannel channel = toChannel(fd);
        channel.configureBlocking(false);
        return channel;
    }

    /**
     * Makes a channel of a received listening socket: the first through {@code System.inheritedChannel()}
     * (the descriptor is placed on fd 0 first), which is the public way; an app with a second address
     * needs the JDK's channel class opened to Forkless, which the runtime does for its children.
     */
    private ServerSocketChannel toChannel(int fd) throws IOException {
        boolean first = !inheritedUsed;
        inheritedUsed = true;
        return Unix.listeningChannel(fd, first);
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

    @Override
    public void ready(Isolate from) {
        send(ControlMessage.of(ControlMessage.READY));
    }

    @Override
    public void exited(Isolate from, int status) {
        exitStatus = status;
        sendStats();
        send(ControlMessage.of(ControlMessage.EXITED, status));
    }

    @Override
    public void crashed(Isolate from, Thread thread, Throwable cause) {
        exitStatus = 1;
        StringWriter trace = new StringWriter();
        cause.printStackTrace(new PrintWriter(trace));
        sendStats();
        send(ControlMessage.of(ControlMessage.CRASHED, String.valueOf(cause), trace.toString()));
    }

    @Override
    public boolean message(Isolate from, dev.forkless.api.Message message, boolean relay) {
        send(ControlMessage.of(message, relay));
        return true;
    }

    @Override
    public void putShared(Isolate from, String key, String value) {
        String req = String.valueOf(requestIds.incrementAndGet());
        CompletableFuture<String> reply = new CompletableFuture<>();
        pendingPuts.put(req, reply);
        try {
            send(ControlMessage.of(ControlMessage.PUT, req, key, value == null ? "" : value, value == null ? "0" : "1"));
            String error = reply.get(PUT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (!error.isEmpty()) {
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

    private void stateChanged(String key, String value) {
        synchronized (state) {
            Isolate copy = isolate;
            if (copy != null) {
                copy.inbox().stateChanged(key, value);
            } else if (value == null) {
                state.remove(key);
            } else {
                state.put(key, value);
            }
        }
    }

    // ---- the control channel ----

    void send(ControlMessage message) {
        synchronized (sendLock) {
            try {
                Unix.send(control, message.encode(), -1);
            } catch (IOException e) {
                // the runtime is gone: the reader sees the end and halts
            }
        }
    }

    private void readControl() {
        ControlMessage.LineSplitter lines = new ControlMessage.LineSplitter();
        try {
            while (true) {
                Unix.Received received = Unix.receive(control, 4096);
                if (received.fd() >= 0) {
                    receivedFds.add(received.fd());
                }
                if (received.data().length == 0) {
                    break;
                }
                lines.feed(received.data(), line -> onCommand(ControlMessage.decode(line)));
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "control channel failed", e);
        }
        // No child outlives its runtime: the channel closed, so the runtime is gone (or gave up on us).
        System.err.flush();
        Runtime.getRuntime().halt(stopping.get() ? exitStatus : 1);
    }

    private void onCommand(ControlMessage message) {
        Isolate copy = isolate;
        switch (message.type()) {
            case ControlMessage.BOUND -> {
                CompletableFuture<Integer> reply = pendingBinds.get(message.arg(0));
                Integer fd = receivedFds.poll();
                if (reply == null || fd == null) {
                    if (fd != null) {
                        Unix.close(fd);
                    }
                    return;
                }
                reply.complete(fd);
            }
            case ControlMessage.BIND_FAILED -> {
                CompletableFuture<Integer> reply = pendingBinds.get(message.arg(0));
                if (reply != null) {
                    reply.completeExceptionally(new BindException(message.arg(1)));
                }
            }
            case ControlMessage.ACCEPT -> {
                if (copy != null) {
                    copy.startAccepting();
                }
            }
            case ControlMessage.DRAIN -> {
                if (copy != null) {
                    drainingFast = true;
                    copy.beginDrain();
                    sendStats();
                    send(ControlMessage.of(ControlMessage.DRAINING));
                }
            }
            case ControlMessage.MSG -> {
                if (copy != null) {
                    copy.inbox().deliver(message.appMessage());
                }
            }
            case ControlMessage.SNAPSHOT -> {
                synchronized (state) {
                    for (int i = 0; i + 1 < message.args().size(); i += 2) {
                        state.put(message.arg(i), message.arg(i + 1));
                    }
                }
                snapshotReceived.complete(null);
            }
            case ControlMessage.STATE -> stateChanged(message.arg(0), message.arg(2).equals("1") ? message.arg(1) : null);
            case ControlMessage.PUT_DONE -> {
                CompletableFuture<String> reply = pendingPuts.get(message.arg(0));
                if (reply != null) {
                    reply.complete(message.arg(1));
                }
            }
            case ControlMessage.UNLOAD -> {
                long grace = Long.parseLong(message.arg(0));
                Thread.ofPlatform().name("forkless-unload").start(() -> unloadAndExit(Duration.ofMillis(grace)));
            }
            default -> LOG.log(System.Logger.Level.WARNING, "unknown control message " + message.type());
        }
    }

    private void unloadAndExit(Duration grace) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        Isolate copy = isolate;
        if (copy != null) {
            Isolate.UnloadReport report = copy.unload(grace);
            send(ControlMessage.of(ControlMessage.UNLOADED, report.forcedConnections(),
                    String.join(",", report.leftoverThreads())));
        }
        exit(exitStatus);
    }

    /** SIGTERM from outside the runtime: drain for the drain timeout, unload, exit. */
    private void stopBySignal() {
        Isolate copy = isolate;
        if (copy == null) {
            exit(143);
            return;
        }
        drainingFast = true;
        copy.beginDrain();
        send(ControlMessage.of(ControlMessage.DRAINING));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMillis);
        while (copy.openConnections() > 0 && System.nanoTime() < deadline) {
            sleep(10);
        }
        if (exitStatus == 0) {
            exitStatus = 143;
        }
        unloadAndExit(Duration.ofSeconds(2));
    }

    void exit(int status) {
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }

    private void reportStats() {
        int lastOpen = -1;
        long lastRequests = -1;
        long lastSent = 0;
        while (!stopping.get()) {
            Isolate copy = isolate;
            int open = copy.openConnections();
            long requests = copy.requests();
            long now = System.nanoTime();
            long oldest = copy.oldestRequestNanos(now);
            long away = copy.acceptorAwayNanos(now);
            boolean stuck = oldest > 500_000_000L || away > 500_000_000L;
            if (open != lastOpen || ((requests != lastRequests || stuck) && now - lastSent > 250_000_000L)) {
                send(ControlMessage.of(ControlMessage.STATS, open, requests, oldest / 1_000_000, away / 1_000_000));
                lastOpen = open;
                lastRequests = requests;
                lastSent = now;
            }
            sleep(drainingFast ? 5 : 50);
        }
    }

    private void sendStats() {
        Isolate copy = isolate;
        if (copy != null && copy.loader() != null) {
            long now = System.nanoTime();
            send(ControlMessage.of(ControlMessage.STATS, copy.openConnections(), copy.requests(),
                    copy.oldestRequestNanos(now) / 1_000_000, copy.acceptorAwayNanos(now) / 1_000_000));
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
