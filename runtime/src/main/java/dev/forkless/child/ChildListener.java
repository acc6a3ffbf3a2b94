package dev.forkless.child;

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
 * The app's listening channel in a child JVM: its bind takes the runtime's listening socket for the
 * address (one kernel socket shared by every copy), and it takes connections only while the copy
 * accepts (a standby takes none until promoted; a draining copy none at all).
 */
final class ChildListener extends ServerSocketChannel {

    private static final Set<SocketOption<?>> OPTIONS = Set.of(
            StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT);

    private final ChildCopy copy;
    private final Object stateLock = new Object();
    private final Map<SocketOption<?>, Object> options = new LinkedHashMap<>();
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private volatile ServerSocketChannel shared;
    private volatile Selector selector;
    private volatile SelectionKey key;
    private volatile boolean accepting;
    private volatile boolean acceptorStarted;
    private volatile long acceptorLeftAt;

    ChildListener(SelectorProvider provider, ChildCopy copy) {
        super(provider);
        this.copy = copy;
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
            ServerSocketChannel socket = copy.listeningSocket(local, backlog, Map.copyOf(options));
            Selector sel = ChildSelectorProvider.jdkProvider().openSelector();
            this.accepting = copy.accepting();
            this.key = socket.register(sel, accepting ? SelectionKey.OP_ACCEPT : 0);
            this.selector = sel;
            this.shared = socket;
        }
        copy.listenerBound(this);
        return this;
    }

    @Override
    public SocketChannel accept() throws IOException {
        ServerSocketChannel socket = shared;
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        if (socket == null) {
            throw new NotYetBoundException();
        }
        markAcceptorStarted();
        if (!isBlocking()) {
            return accepting ? track(socket.accept()) : null;
        }
        acceptorLeftAt = 0;
        try {
            return awaitConnection(socket);
        } finally {
            acceptorLeftAt = System.nanoTime();
        }
    }

    private SocketChannel awaitConnection(ServerSocketChannel socket) throws IOException {
        boolean completed = false;
        try {
            begin();
            while (isOpen()) {
                if (accepting) {
                    SocketChannel channel = socket.accept();
                    if (channel != null) {
                        completed = true;
                        return track(channel);
                    }
                }
                Selector sel = selector;
                sel.select();
                sel.selectedKeys().clear();
            }
        } catch (ClosedSelectorException closedConcurrently) {
            // closed while waiting: end() reports it
        } finally {
            end(completed);
        }
        throw new AsynchronousCloseException();
    }

    private void markAcceptorStarted() {
        if (!acceptorStarted) {
            acceptorStarted = true;
            copy.acceptorStarted();
        }
    }

    long acceptorAwayNanos(long now) {
        long left = acceptorLeftAt;
        return !isOpen() || !acceptorStarted || !isBlocking() || left == 0 ? 0 : now - left;
    }

    private SocketChannel track(SocketChannel channel) {
        if (channel != null) {
            connections.add(channel);
            if (connections.size() % 32 == 0) {
                connections.removeIf(c -> !c.isOpen());
            }
        }
        return channel;
    }

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

    int openConnections() {
        connections.removeIf(c -> !c.isOpen());
        return connections.size();
    }

    @Override
    public ServerSocket socket() {
        throw new UnsupportedOperationException("forkless: the socket adaptor of a shared listener is not supported yet");
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        ServerSocketChannel socket = shared;
        return socket == null ? null : socket.getLocalAddress();
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
        ServerSocketChannel socket = shared;
        if (socket != null) {
            return socket.getOption(name);
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
        synchronized (stateLock) {
            shared = null;
        }
        Selector sel = selector;
        if (sel != null) {
            sel.close(); // wakes the acceptor, which then throws AsynchronousCloseException
        }
        copy.listenerClosed(this);
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        // accept() reads isBlocking() each call
    }

    @Override
    public String toString() {
        return "ChildListener[copy=" + copy.id() + ", shared=" + shared + "]";
    }
}
