package dev.forkless.isolate;

import java.nio.channels.ServerSocketChannel;

/**
 * One listening socket shared by every view that binds its address, and the dispatcher that accepts from
 * it; owned by the host (the runtime, or a child JVM for the descriptor it received).
 */
public interface SharedSocket {

    /** @return the listening channel, in non-blocking mode; views never accept from it or close it */
    default ServerSocketChannel channel() {
        return dispatcher().channel();
    }

    /** @return the dispatcher that accepts from the socket and hands connections to the views */
    AcceptDispatcher dispatcher();

    /** The view using this socket closed; the owner decides when the socket itself closes. */
    void release();

    /**
     * A shared socket whose release does nothing: the owner closes the dispatcher and the socket itself.
     *
     * @param dispatcher the dispatcher
     * @return the shared socket
     */
    static SharedSocket of(AcceptDispatcher dispatcher) {
        java.util.Objects.requireNonNull(dispatcher, "dispatcher");
        return new SharedSocket() {
            @Override
            public AcceptDispatcher dispatcher() {
                return dispatcher;
            }

            @Override
            public void release() {
            }

            @Override
            public String toString() {
                return dispatcher.toString();
            }
        };
    }
}
