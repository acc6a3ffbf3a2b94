package dev.forkless.isolate;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Connections a copy makes to itself. In a JVM of its own, a connection an app opens to its own listening
 * address reaches its own acceptor; in Forkless that address is the shared socket, which would give the
 * connection to another copy, or to none while this one drains. Servers rely on it: Tomcat, when it
 * stops, connects to its own port to wake its blocked acceptor ({@code AbstractEndpoint.unlockAccept}) and
 * then waits for it, a second each time, so Spring Boot's graceful shutdown outlasted the unload's grace
 * and left Tomcat's threads behind at every reload. Such a connection goes to a private loopback listener
 * instead, whose accepted end the copy's listener view hands the app as if accepted
 * ({@link ListenerView#offerOwn}), whether or not the copy takes connections (a standby, a draining copy).
 * Standby warm-up uses the same path ({@link WarmUp}).
 */
final class OwnConnections {

    private OwnConnections() {
    }

    /**
     * The view of {@code views} that listens on {@code address}: the same port, and the same address or a
     * wildcard one that {@code address} is local to. A view whose dispatcher is not lazy cannot be offered
     * a connection of the copy's own, and is not one.
     *
     * @return the view, or {@code null} when the address is not the copy's own
     */
    static ListenerView listening(Iterable<ListenerView> views, SocketAddress address) {
        if (!(address instanceof InetSocketAddress target) || target.isUnresolved()) {
            return null;
        }
        for (ListenerView view : views) {
            if (!view.isOpen() || !view.takesOwn()) {
                continue;
            }
            SocketAddress local;
            try {
                local = view.getLocalAddress();
            } catch (IOException closed) {
                continue;
            }
            if (local instanceof InetSocketAddress bound && bound.getPort() == target.getPort()
                    && (bound.getAddress().equals(target.getAddress())
                    || bound.getAddress().isAnyLocalAddress() && isLocal(target.getAddress()))) {
                return view;
            }
        }
        return null;
    }

    private static boolean isLocal(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Connects {@code client} to the copy that owns {@code view}, through a private loopback listener.
     *
     * @throws ConnectException when the view is closed (the copy is being unloaded)
     */
    static void connect(Socket client, ListenerView view, int timeoutMillis) throws IOException {
        try (ServerSocketChannel loopback = view.provider().openServerSocketChannel()) {
            loopback.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            connect(client, loopback, view, timeoutMillis);
        }
    }

    /**
     * Connects {@code client} to {@code loopback} and hands the accepted end to {@code view}.
     *
     * @throws ConnectException when the view is closed; {@code client} is closed then
     */
    static void connect(Socket client, ServerSocketChannel loopback, ListenerView view, int timeoutMillis)
            throws IOException {
        client.connect(loopback.getLocalAddress(), timeoutMillis);
        SocketChannel own = loopback.accept();
        if (!view.offerOwn(own)) {
            own.close();
            client.close();
            throw new ConnectException("Connection refused: the copy's listener is closed");
        }
    }
}
