package dev.forkless.isolate;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Set;

/**
 * A {@link ServerSocket} over an isolate's {@link ListenerView}: what {@code new ServerSocket(...)} in
 * isolate code creates (the rewriter replaces the constructor call), and what
 * {@link ListenerView#socket()} returns.
 */
public final class IsolateServerSocket extends ServerSocket {

    private final ListenerView view;
    private volatile int soTimeout;

    IsolateServerSocket(ListenerView view) throws IOException {
        this.view = view;
    }

    /** {@code new ServerSocket()} in isolate code. */
    public IsolateServerSocket(Class<?> caller) throws IOException {
        this(viewFor(caller));
    }

    /** {@code new ServerSocket(port)} in isolate code. */
    public IsolateServerSocket(int port, Class<?> caller) throws IOException {
        this(port, 50, null, caller);
    }

    /** {@code new ServerSocket(port, backlog)} in isolate code. */
    public IsolateServerSocket(int port, int backlog, Class<?> caller) throws IOException {
        this(port, backlog, null, caller);
    }

    /** {@code new ServerSocket(port, backlog, bindAddr)} in isolate code. */
    public IsolateServerSocket(int port, int backlog, InetAddress bindAddr, Class<?> caller) throws IOException {
        this(viewFor(caller));
        bindAsConstructed(port, backlog, bindAddr);
    }

    /** {@code new ServerSocket()} in a child JVM (process mode): the child agent rewrites the call. */
    public IsolateServerSocket(SelectorProvider provider) throws IOException {
        this(viewOf(provider));
    }

    /** {@code new ServerSocket(port)} in a child JVM. */
    public IsolateServerSocket(int port, SelectorProvider provider) throws IOException {
        this(port, 50, null, provider);
    }

    /** {@code new ServerSocket(port, backlog)} in a child JVM. */
    public IsolateServerSocket(int port, int backlog, SelectorProvider provider) throws IOException {
        this(port, backlog, null, provider);
    }

    /** {@code new ServerSocket(port, backlog, bindAddr)} in a child JVM. */
    public IsolateServerSocket(int port, int backlog, InetAddress bindAddr, SelectorProvider provider)
            throws IOException {
        this(viewOf(provider));
        bindAsConstructed(port, backlog, bindAddr);
    }

    /** Binds as {@code new ServerSocket(port, backlog, bindAddr)} does: checks the port, closes on failure. */
    private void bindAsConstructed(int port, int backlog, InetAddress bindAddr) throws IOException {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("Port value out of range: " + port);
        }
        try {
            bind(new InetSocketAddress(bindAddr, port), backlog);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A child JVM's provider opens a view for every TCP listening channel. */
    private static ListenerView viewOf(SelectorProvider provider) throws IOException {
        ServerSocketChannel channel = provider.openServerSocketChannel();
        if (channel instanceof ListenerView view) {
            return view;
        }
        channel.close();
        throw new IllegalStateException(provider + " does not open listener views");
    }

    private static ListenerView viewFor(Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        if (isolate == null) {
            throw new IllegalStateException(caller + " is not isolate code");
        }
        return isolate.openListener(SelectorProvider.provider());
    }

    @Override
    public void bind(SocketAddress endpoint) throws IOException {
        bind(endpoint, 50);
    }

    @Override
    public void bind(SocketAddress endpoint, int backlog) throws IOException {
        if (isClosed()) {
            throw new SocketException("Socket is closed");
        }
        if (isBound()) {
            throw new SocketException("Already bound");
        }
        view.bind(endpoint == null ? new InetSocketAddress(0) : endpoint, backlog < 1 ? 50 : backlog);
    }

    @Override
    public Socket accept() throws IOException {
        if (isClosed()) {
            throw new SocketException("Socket is closed");
        }
        if (!isBound()) {
            throw new SocketException("Socket is not bound yet");
        }
        if (view.shared() == null) {
            throw new SocketException("Socket is closed");
        }
        SocketChannel channel = view.acceptBlocking(soTimeout);
        if (channel == null) {
            throw new SocketTimeoutException("Accept timed out");
        }
        return channel.socket();
    }

    @Override
    public InetAddress getInetAddress() {
        SocketAddress local = localAddress();
        return local instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    @Override
    public int getLocalPort() {
        SocketAddress local = localAddress();
        return local instanceof InetSocketAddress inet ? inet.getPort() : -1;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return localAddress();
    }

    private SocketAddress localAddress() {
        try {
            return view.isOpen() ? view.getLocalAddress() : null;
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        view.close();
    }

    @Override
    public ServerSocketChannel getChannel() {
        return view;
    }

    @Override
    public boolean isBound() {
        return view.shared() != null || (!view.isOpen() && localAddress() != null);
    }

    @Override
    public boolean isClosed() {
        return !view.isOpen();
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        soTimeout = timeout;
    }

    @Override
    public int getSoTimeout() {
        return soTimeout;
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        setOptionQuietly(StandardSocketOptions.SO_REUSEADDR, on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        Boolean on = getOptionQuietly(StandardSocketOptions.SO_REUSEADDR);
        return on != null && on;
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        setOptionQuietly(StandardSocketOptions.SO_RCVBUF, size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        Integer size = getOptionQuietly(StandardSocketOptions.SO_RCVBUF);
        return size == null ? 0 : size;
    }

    @Override
    public <T> ServerSocket setOption(SocketOption<T> name, T value) throws IOException {
        view.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return view.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return view.supportedOptions();
    }

    @Override
    public void setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        // as the JDK's own implementation: no effect
    }

    private <T> void setOptionQuietly(SocketOption<T> name, T value) throws SocketException {
        try {
            view.setOption(name, value);
        } catch (IOException e) {
            throw new SocketException(e.getMessage());
        }
    }

    private <T> T getOptionQuietly(SocketOption<T> name) throws SocketException {
        try {
            return view.getOption(name);
        } catch (IOException e) {
            throw new SocketException(e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "IsolateServerSocket[" + localAddress() + "]";
    }
}
