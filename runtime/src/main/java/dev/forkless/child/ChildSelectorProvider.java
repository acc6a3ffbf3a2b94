package dev.forkless.child;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;

/**
 * The selector provider of a child JVM ({@code -Djava.nio.channels.spi.SelectorProvider=} this class):
 * the JDK's own provider for everything, except that an app's TCP listening channel is a
 * {@link dev.forkless.isolate.ListenerView} owned by the {@link ChildCopy}, whose bind takes the runtime's listening socket for the address. Netty opens its
 * server channels through {@code SelectorProvider.provider()}; Tomcat, Jetty, XNIO and the JDK's
 * {@code HttpServer} through {@code ServerSocketChannel.open()}: both come here. ({@code new
 * java.net.ServerSocket(...)} comes here through {@link ServerSocketRewriter}.)
 */
public final class ChildSelectorProvider extends SelectorProvider {

    private final SelectorProvider jdk = jdkProvider();

    /** Made by {@link SelectorProvider#provider()}. */
    public ChildSelectorProvider() {
    }

    /** @return the JDK's default provider, which this one delegates to */
    static SelectorProvider jdkProvider() {
        try {
            return (SelectorProvider) Class.forName("sun.nio.ch.DefaultSelectorProvider").getMethod("get").invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("forkless: the JDK's selector provider is not reachable from the child agent", e);
        }
    }

    @Override
    public DatagramChannel openDatagramChannel() throws IOException {
        return jdk.openDatagramChannel();
    }

    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) throws IOException {
        return jdk.openDatagramChannel(family);
    }

    @Override
    public Pipe openPipe() throws IOException {
        return jdk.openPipe();
    }

    @Override
    public AbstractSelector openSelector() throws IOException {
        return jdk.openSelector();
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() throws IOException {
        return listener(null);
    }

    @Override
    public ServerSocketChannel openServerSocketChannel(ProtocolFamily family) throws IOException {
        if (family == StandardProtocolFamily.UNIX) {
            return jdk.openServerSocketChannel(family);
        }
        return listener(family);
    }

    private ServerSocketChannel listener(ProtocolFamily family) throws IOException {
        ChildCopy copy = ChildCopy.current();
        if (copy == null) {
            return family == null ? jdk.openServerSocketChannel() : jdk.openServerSocketChannel(family);
        }
        return new dev.forkless.isolate.ListenerView(copy, this);
    }

    @Override
    public SocketChannel openSocketChannel() throws IOException {
        return jdk.openSocketChannel();
    }

    @Override
    public SocketChannel openSocketChannel(ProtocolFamily family) throws IOException {
        return jdk.openSocketChannel(family);
    }

    @Override
    public Channel inheritedChannel() throws IOException {
        return jdk.inheritedChannel();
    }
}
