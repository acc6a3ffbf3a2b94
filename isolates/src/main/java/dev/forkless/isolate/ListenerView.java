package dev.forkless.isolate;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One isolate's view of a shared listening socket: what the app gets when it opens a
 * {@link ServerSocketChannel}.
 *
 * <p>{@link #bind} joins the host's {@link SharedSocket} for the address instead of binding a socket of
 * its own. {@link #accept} is this isolate's own acceptor: it waits on its own {@link Selector},
 * registered on the shared non-blocking channel, and competes with the other isolates' views for each
 * connection, as Node.js workers do on a shared handle. Closing the view wakes its acceptor, which then
 * throws {@link AsynchronousCloseException} (the signal Helidon's listener takes as its stop); the
 * shared socket and the other views are left alone.
 *
 * <p>A view can be paused ({@link Isolate#stopAccepting()}): its acceptor stays blocked in
 * {@code accept()} but takes no connection. A warm standby is an isolate whose views are paused.
 */
public final class ListenerView extends ServerSocketChannel {

    private static final Set<SocketOption<?>> OPTIONS = Set.of(
            StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT);
    private static final int PRUNE_EVERY = 32;

    private final Isolate isolate;
    private final Object stateLock = new Object();
    private final Map<SocketOption<?>, Object> options = new LinkedHashMap<>();
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private volatile SharedSocket shared;
    private volatile Selector selector;
    private volatile SelectionKey key;
    private volatile boolean accepting;
    private volatile boolean acceptorStarted;
    /** When the acceptor last left {@code accept()} (System.nanoTime), or 0 while it is inside. */
    private volatile long acceptorLeftAt;
    private int acceptedSincePrune;
    private ServerSocket adaptor;

    ListenerView(Isolate isolate, SelectorProvider provider) {
        super(provider);
        this.isolate = isolate;
    }

    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        synchronized (stateLock) {
            if (!isOpen()) {
                throw new ClosedChannelException();
            }
            if (shared != null) {
                throw new AlreadyBoundException();
            }
            SharedSocket socket = isolate.host().bind(isolate, local, backlog, Map.copyOf(options));
            try {
                Selector sel = socket.channel().provider().openSelector();
                this.accepting = isolate.isAccepting();
                this.key = socket.channel().register(sel, accepting ? SelectionKey.OP_ACCEPT : 0);
                this.selector = sel;
                this.shared = socket;
            } catch (IOException | RuntimeException e) {
                socket.release();
                throw e;
            }
        }
        isolate.viewBound(this);
        return this;
    }

    @Override
    public SocketChannel accept() throws IOException {
        SharedSocket socket = shared;
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        if (socket == null) {
            throw new NotYetBoundException();
        }
        markAcceptorStarted();
        if (!isBlocking()) {
            return accepting ? track(socket.channel().accept()) : null;
        }
        return acceptBlocking(socket, 0);
    }

    /**
     * Waits for a connection.
     *
     * @param timeoutMillis at most this long, {@code 0} for no limit
     * @return the connection, or {@code null} when the timeout passed
     */
    SocketChannel acceptBlocking(SharedSocket socket, long timeoutMillis) throws IOException {
        markAcceptorStarted();
        acceptorLeftAt = 0;
        try {
            return awaitConnection(socket, timeoutMillis);
        } finally {
            acceptorLeftAt = System.nanoTime();
        }
    }

    /**
     * How long the app's acceptor has been away from {@code accept()} (handing a connection over, or
     * stuck), for the hang watchdog.
     */
    long acceptorAwayNanos(long now) {
        long left = acceptorLeftAt;
        return !isOpen() || !acceptorStarted || left == 0 ? 0 : now - left;
    }

    private SocketChannel awaitConnection(SharedSocket socket, long timeoutMillis) throws IOException {
        long deadline = timeoutMillis > 0 ? System.nanoTime() + timeoutMillis * 1_000_000 : 0;
        boolean completed = false;
        try {
            begin();
            while (isOpen()) {
                if (accepting) {
                    SocketChannel channel = socket.channel().accept();
                    if (channel != null) {
                        completed = true;
                        return track(channel);
                    }
                }
                Selector sel = selector;
                if (deadline == 0) {
                    sel.select();
                } else {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        completed = true;
                        return null;
                    }
                    sel.select(left);
                }
                sel.selectedKeys().clear();
            }
        } catch (ClosedSelectorException closedConcurrently) {
            // the view was closed while this acceptor waited: end() below reports it
        } finally {
            end(completed);
        }
        throw new AsynchronousCloseException();
    }

    /** The app's acceptor is running: the isolate is ready. */
    private void markAcceptorStarted() {
        if (!acceptorStarted) {
            acceptorStarted = true;
            isolate.acceptorStarted();
        }
    }

    /** @return the shared socket, or {@code null} while unbound or once closed */
    SharedSocket shared() {
        return shared;
    }

    private SocketChannel track(SocketChannel channel) {
        if (channel == null) {
            return null;
        }
        connections.add(channel);
        if (++acceptedSincePrune >= PRUNE_EVERY) {
            acceptedSincePrune = 0;
            connections.removeIf(c -> !c.isOpen());
        }
        isolate.accepted();
        return channel;
    }

    /** Starts or stops taking connections; the acceptor stays in {@code accept()} either way. */
    void setAccepting(boolean on) {
        synchronized (stateLock) {
            accepting = on;
            SelectionKey k = key;
            if (k != null && k.isValid()) {
                try {
                    k.interestOps(on ? SelectionKey.OP_ACCEPT : 0);
                } catch (java.nio.channels.CancelledKeyException ignored) {
                    // closing
                }
                selector.wakeup();
            }
        }
    }

    /** @return connections this view accepted that are still open */
    int openConnections() {
        connections.removeIf(c -> !c.isOpen());
        return connections.size();
    }

    /** Closes every connection this view accepted that is still open. */
    int closeConnections() {
        int closed = 0;
        for (SocketChannel channel : connections) {
            if (channel.isOpen()) {
                try {
                    channel.close();
                    closed++;
                } catch (IOException ignored) {
                    // it is being closed either way
                }
            }
        }
        connections.clear();
        return closed;
    }

    /** @return whether the app's acceptor has called {@code accept()} on this view */
    boolean acceptorStarted() {
        return acceptorStarted;
    }

    @Override
    public ServerSocket socket() {
        synchronized (stateLock) {
            if (adaptor == null) {
                try {
                    adaptor = new IsolateServerSocket(this);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return adaptor;
        }
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        SharedSocket socket = shared;
        return socket == null ? null : socket.channel().getLocalAddress();
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        synchronized (stateLock) {
            // Options apply when the shared socket is created; later ones would change it for every isolate.
            options.put(name, value);
        }
        return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(SocketOption<T> name) throws IOException {
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        SharedSocket socket = shared;
        if (socket != null) {
            return socket.channel().getOption(name);
        }
        synchronized (stateLock) {
            return (T) options.get(name);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return OPTIONS;
    }

    @Override
    protected void implCloseSelectableChannel() throws IOException {
        SharedSocket socket;
        synchronized (stateLock) {
            socket = shared;
            shared = null;
        }
        Selector sel = selector;
        if (sel != null) {
            sel.close(); // wakes the acceptor, which then throws AsynchronousCloseException
        }
        if (socket != null) {
            socket.release();
        }
        isolate.viewClosed(this);
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        // accept() reads isBlocking() each call
    }

    @Override
    public String toString() {
        return "ListenerView[isolate=" + isolate.id() + ", shared=" + shared + "]";
    }
}
