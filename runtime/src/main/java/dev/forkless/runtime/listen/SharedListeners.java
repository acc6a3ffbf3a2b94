package dev.forkless.runtime.listen;

import dev.forkless.isolate.AcceptDispatcher;
import dev.forkless.isolate.SharedSocket;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The runtime's listening sockets, one per address the app binds, shared by every copy that binds the
 * same address. The runtime owns them: a socket stays open while the runtime runs, even while no copy
 * accepts on it (between a crash and its replacement, connections wait in the socket's backlog instead
 * of being refused), and closes when the runtime stops. An app of several that no copy will serve (it
 * was stopped, or every copy errored) has its sockets closed until a copy binds again
 * ({@link #closeUntilBound}): clients are refused at once instead of waiting in a backlog nobody takes.
 */
public final class SharedListeners implements AutoCloseable {

    private final Map<InetSocketAddress, SharedListener> byRequest = new HashMap<>();
    /** Where each requested address was bound last: a socket opened again takes the same port (port 0 too). */
    private final Map<InetSocketAddress, InetSocketAddress> boundAt = new HashMap<>();
    private final Consumer<InetSocketAddress> onListening;
    private boolean closed;

    public SharedListeners(Consumer<InetSocketAddress> onListening) {
        this.onListening = onListening;
    }

    /**
     * Binds or joins the socket for an address.
     *
     * @throws BindException naming the address when it is taken
     */
    public synchronized SharedSocket bind(SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options)
            throws IOException {
        if (closed) {
            throw new IOException("the runtime is stopping");
        }
        InetSocketAddress key = key(requested);
        SharedListener listener = byRequest.get(key);
        if (listener == null) {
            listener = SharedListener.open(boundAt.getOrDefault(key, key), backlog, options);
            byRequest.put(key, listener);
            boundAt.put(key, listener.localAddress());
            onListening.accept(listener.localAddress());
        }
        return listener.join();
    }

    /**
     * Takes over a listening socket that another runtime handed over: copies that ask for
     * {@code requested} get it, and connections waiting in its backlog are not lost.
     *
     * @param requested the address the app asked for (the key the other runtime used)
     * @param channel   the socket
     */
    synchronized void adopt(InetSocketAddress requested, ServerSocketChannel channel) throws IOException {
        channel.configureBlocking(false);
        SharedListener listener = new SharedListener(channel, (InetSocketAddress) channel.getLocalAddress());
        byRequest.put(key(requested), listener);
        boundAt.put(key(requested), listener.localAddress());
        onListening.accept(listener.localAddress());
    }

    /** @return every socket by the address the app asked for: what a handover passes on */
    synchronized Map<InetSocketAddress, ServerSocketChannel> channels() {
        Map<InetSocketAddress, ServerSocketChannel> channels = new java.util.LinkedHashMap<>();
        byRequest.forEach((requested, listener) -> channels.put(requested, listener.channel()));
        return channels;
    }

    /** @return the addresses the runtime listens on */
    public synchronized List<InetSocketAddress> addresses() {
        List<InetSocketAddress> addresses = new ArrayList<>();
        byRequest.values().forEach(l -> addresses.add(l.localAddress()));
        return addresses;
    }

    /**
     * Closes every socket while no copy will accept on it (an app of several stopped, or every copy of it
     * errored): new connections are refused and those waiting in the backlog are reset, at once, instead
     * of hanging. The socket is shut down before it is closed, so that it stops listening in the child
     * JVMs that hold it too (process mode). The next {@link #bind} of an address opens its socket again,
     * on the address it had (the same port when the app asked for port 0).
     */
    public synchronized void closeUntilBound() {
        byRequest.values().forEach(SharedListener::shutDown);
        byRequest.clear();
    }

    @Override
    public synchronized void close() {
        closed = true;
        byRequest.values().forEach(SharedListener::close);
        byRequest.clear();
    }

    private static InetSocketAddress key(SocketAddress requested) {
        if (requested == null) {
            return new InetSocketAddress(0);
        }
        if (requested instanceof InetSocketAddress inet) {
            if (inet.isUnresolved()) {
                return new InetSocketAddress(inet.getHostString(), inet.getPort());
            }
            return inet;
        }
        throw new UnsupportedOperationException("cannot share a listener on " + requested);
    }

    /**
     * One runtime-owned listening socket, its dispatcher (which accepts for the isolates' views, and
     * only while one of them takes connections) and the count of copies on it.
     */
    static final class SharedListener {

        private final ServerSocketChannel channel;
        private final InetSocketAddress localAddress;
        private final AcceptDispatcher dispatcher;
        private int views;

        private SharedListener(ServerSocketChannel channel, InetSocketAddress localAddress) throws IOException {
            this.channel = channel;
            this.localAddress = localAddress;
            // lazy: a connection no copy took waits in the kernel, never in this JVM (a copy that closes, a
            // handover, an escalation to child JVMs strand nothing)
            this.dispatcher = AcceptDispatcher.lazy(channel, localAddress.getHostString() + ":" + localAddress.getPort());
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        static SharedListener open(InetSocketAddress address, int backlog, Map<SocketOption<?>, Object> options)
                throws IOException {
            ServerSocketChannel channel = ServerSocketChannel.open();
            try {
                channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                for (Map.Entry<SocketOption<?>, Object> option : options.entrySet()) {
                    if (option.getKey() != StandardSocketOptions.SO_REUSEPORT) {
                        channel.setOption((SocketOption) option.getKey(), option.getValue());
                    }
                }
                try {
                    channel.bind(address, backlog);
                } catch (BindException e) {
                    throw new BindException("port " + address.getPort() + " on " + address.getHostString()
                            + " is already in use by another program (" + e.getMessage() + ")");
                }
                channel.configureBlocking(false);
                return new SharedListener(channel, (InetSocketAddress) channel.getLocalAddress());
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        synchronized SharedSocket join() {
            views++;
            return new SharedSocket() {
                private boolean released;

                @Override
                public AcceptDispatcher dispatcher() {
                    return dispatcher;
                }

                @Override
                public void release() {
                    synchronized (SharedListener.this) {
                        if (!released) {
                            released = true;
                            views--;
                        }
                    }
                }

                @Override
                public String toString() {
                    return localAddress.toString();
                }
            };
        }

        synchronized int views() {
            return views;
        }

        InetSocketAddress localAddress() {
            return localAddress;
        }

        ServerSocketChannel channel() {
            return channel;
        }

        /** Stops listening for every holder of the socket (child JVMs too), then closes it. */
        void shutDown() {
            dispatcher.close();
            try {
                dev.forkless.runtime.child.Unix.shutdown(dev.forkless.runtime.child.Unix.fdOf(channel));
            } catch (IOException e) {
                // no descriptor to reach (a JDK without the export): closing is enough in this JVM
            }
            close();
        }

        void close() {
            dispatcher.close();
            try {
                channel.close();
            } catch (IOException ignored) {
                // stopping
            }
        }
    }
}
