package dev.forkless.isolate;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;
import java.util.Map;

/**
 * Whoever hands out {@link ListenerView}s: an {@link Isolate} in the runtime's JVM, or a child JVM that
 * runs the app with {@code java -jar} and gives it views through its {@code SelectorProvider}. A view
 * needs nothing else: no isolate, no isolate class loader.
 *
 * <p>Callbacks come on the app's threads (its acceptor, the thread that binds or closes); they must not
 * block.
 */
public interface ListenerOwner {

    /**
     * Binds, or joins, the one listening socket of this address, and its {@link AcceptDispatcher}. Called
     * once per view, by the view's {@code bind}.
     *
     * @param requested the address the app asked for
     * @param backlog   the app's backlog ({@code 0} for the default)
     * @param options   the socket options the app set before binding
     * @return the shared socket; {@link SharedSocket#release()} is called when the view closes
     * @throws IOException when the address cannot be bound
     */
    SharedSocket bind(SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options) throws IOException;

    /**
     * @return whether a view bound now takes connections from the start ({@code false} for a standby);
     *         afterwards the owner switches each view with {@link ListenerView#setAccepting}
     */
    boolean isAccepting();

    /**
     * The view is bound and attached to its dispatcher.
     *
     * @param view the view
     */
    default void bound(ListenerView view) {
    }

    /**
     * The app called {@code accept()} on the view for the first time: its server runs (a readiness signal).
     *
     * @param view the view
     */
    default void acceptorStarted(ListenerView view) {
    }

    /**
     * The app took a connection from the view.
     *
     * @param view       the view
     * @param connection the connection
     */
    default void accepted(ListenerView view, SocketChannel connection) {
    }

    /**
     * The view closed; connections it had not handed to the app went back to its dispatcher.
     *
     * @param view the view
     */
    default void closed(ListenerView view) {
    }
}
