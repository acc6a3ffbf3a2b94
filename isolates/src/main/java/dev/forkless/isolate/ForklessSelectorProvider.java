package dev.forkless.isolate;

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
 * The JVM-wide selector provider while the agent runs ({@code java.nio.channels.spi.SelectorProvider},
 * set by {@link ForklessAgent} before anything uses NIO). It hands out the JDK's default provider's
 * channels and selectors, except one thing: a listening channel opened for a copy, by JDK code that no
 * rewriting reaches (the JDK's {@code HttpServer} opens its own), is that copy's listener view. Which copy:
 * {@link Callers#isolate()}.
 */
public final class ForklessSelectorProvider extends SelectorProvider {

    private final SelectorProvider jdk;

    /** Creates the provider over the JDK's default one; called by {@link SelectorProvider#provider()}. */
    public ForklessSelectorProvider() {
        this.jdk = defaultProvider();
    }

    private static SelectorProvider defaultProvider() {
        try {
            return (SelectorProvider) Class.forName("sun.nio.ch.DefaultSelectorProvider")
                    .getMethod("get").invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("the JDK's default selector provider is not reachable "
                    + "(java.base/sun.nio.ch must be exported, as runtime.jar's manifest does)", e);
        }
    }

    /** @return the JDK's own provider, which this one delegates to */
    public SelectorProvider jdk() {
        return jdk;
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() throws IOException {
        Isolate isolate = Callers.isolate();
        return isolate == null ? jdk.openServerSocketChannel() : isolate.openListener(jdk);
    }

    @Override
    public ServerSocketChannel openServerSocketChannel(ProtocolFamily family) throws IOException {
        Isolate isolate = family == StandardProtocolFamily.UNIX ? null : Callers.isolate();
        return isolate == null ? jdk.openServerSocketChannel(family) : isolate.openListener(jdk);
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
