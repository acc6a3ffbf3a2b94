package dev.forkless.isolate;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.util.Map;

/**
 * What an isolate needs from the program that hosts it: the runtime in isolate mode, the child JVM's
 * launcher in process mode. Callbacks may come on any thread, an isolate's own included; they must not
 * block.
 */
public interface IsolateHost {

    /**
     * Binds, or joins, the one listening socket of this address. The first isolate that binds an address
     * creates the socket; later ones share it. A requested port 0 is shared too: every copy of the app
     * that asks for "any port" of a host gets the same socket.
     *
     * @param isolate   the isolate that binds
     * @param requested the address the app asked for
     * @param backlog   the app's backlog ({@code 0} for the default)
     * @param options   the socket options the app set before binding
     * @return the shared socket; released when the view closes
     * @throws IOException when the address cannot be bound (for instance another program holds it)
     */
    SharedSocket bind(Isolate isolate, SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options)
            throws IOException;

    /**
     * The isolate is ready: its app accepts on a listener, or said it is ready.
     *
     * @param isolate the isolate
     */
    void ready(Isolate isolate);

    /**
     * The app ended its isolate: {@code System.exit}, {@code Runtime.exit} or {@code Runtime.halt}, or
     * {@code main} returned with nothing left running.
     *
     * @param isolate the isolate
     * @param status  the exit status
     */
    void exited(Isolate isolate, int status);

    /**
     * An exception escaped {@code main} or one of the isolate's threads.
     *
     * @param isolate the isolate
     * @param thread  the thread it escaped from
     * @param cause   the exception
     */
    void crashed(Isolate isolate, Thread thread, Throwable cause);

    /**
     * The app's code caught an {@code OutOfMemoryError} (a framework's request loop that catches
     * {@code Throwable} and goes on): the copy may be broken although it runs. Told once per isolate, on
     * the thread that caught it, maybe with the heap still full: must not allocate much.
     *
     * @param isolate the isolate
     * @param thread  the thread that caught it
     * @param error   the error
     */
    default void outOfMemory(Isolate isolate, Thread thread, OutOfMemoryError error) {
    }

    /**
     * The app sent a message to the runtime ({@code Messages.send}), or asked it to pass one on to every
     * copy ({@code Messages.broadcast}). Waits or drops when the runtime's inbox is full, as configured.
     *
     * @param from    the isolate
     * @param message the message
     * @param relay   whether the runtime passes it on to every copy instead of handling it
     * @return whether the runtime took it
     */
    default boolean message(Isolate from, dev.forkless.api.Message message, boolean relay) {
        return false;
    }

    /**
     * The app changes the shared state ({@code SharedState.put/remove}); returns once the runtime took
     * the change, which it has pushed to this isolate by then.
     *
     * @param from  the isolate
     * @param key   the key
     * @param value the value, or {@code null} to remove it
     * @throws IllegalStateException when the runtime could not take it
     */
    default void putShared(Isolate from, String key, String value) {
        throw new IllegalStateException("this host holds no shared state");
    }
}
