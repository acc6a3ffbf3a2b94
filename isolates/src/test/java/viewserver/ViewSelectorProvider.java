package viewserver;

import dev.forkless.isolate.ListenerOwner;
import dev.forkless.isolate.ListenerView;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;

/**
 * A JVM-wide provider (named by {@code -Djava.nio.channels.spi.SelectorProvider}) that hands out a
 * listener view instead of a server socket channel while an owner is set, and is the JDK's own provider
 * otherwise: how a child JVM's agent reaches servers that open their channel inside JDK code.
 */
public final class ViewSelectorProvider extends SelectorProvider {

    private static final SelectorProvider JDK = sun.nio.ch.DefaultSelectorProvider.get();
    /** The owner of the next server socket channel opened; a test-only JVM-wide hook. */
    static volatile ListenerOwner nextOwner;

    @Override
    public ServerSocketChannel openServerSocketChannel() throws IOException {
        ListenerOwner owner = nextOwner;
        return owner != null ? new ListenerView(owner, this) : JDK.openServerSocketChannel();
    }

    @Override
    public ServerSocketChannel openServerSocketChannel(ProtocolFamily family) throws IOException {
        return JDK.openServerSocketChannel(family);
    }

    @Override
    public DatagramChannel openDatagramChannel() throws IOException {
        return JDK.openDatagramChannel();
    }

    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) throws IOException {
        return JDK.openDatagramChannel(family);
    }

    @Override
    public Pipe openPipe() throws IOException {
        return JDK.openPipe();
    }

    @Override
    public AbstractSelector openSelector() throws IOException {
        return JDK.openSelector();
    }

    @Override
    public SocketChannel openSocketChannel() throws IOException {
        return JDK.openSocketChannel();
    }

    @Override
    public SocketChannel openSocketChannel(ProtocolFamily family) throws IOException {
        return JDK.openSocketChannel(family);
    }
}
