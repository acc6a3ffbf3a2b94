package dev.forkless.api;

import dev.forkless.api.spi.CopyContext;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Messages between a copy of the app and the runtime that runs it, as Node workers have
 * {@code process.send} and {@code process.on('message')}. The same in isolate and process mode; the
 * copy's id is {@link Worker#id()}.
 *
 * <p>Messages from one sender arrive in the order they were sent. Handlers run one at a time on one
 * thread of the copy, in order; an exception escaping a handler is a crash of the copy. A copy's inbox
 * is bounded: when it is full the runtime waits (back-pressure) or drops and counts, as the runtime was
 * configured. A message that arrives while no handler is registered is dropped (and counted).
 *
 * <p>Alone ({@code java -jar app.jar}) nothing is sent and nothing arrives.
 */
public final class Messages {

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private Messages() {
    }

    /**
     * Sends text to the runtime.
     *
     * @param text the text
     * @return whether the runtime took it (false when alone, or dropped because the runtime's inbox is full)
     */
    public static boolean send(String text) {
        return send(ChildBridge.ACTIVE ? null : CopyContext.of(WALKER.getCallerClass()), Message.of(text), false);
    }

    /**
     * Sends bytes to the runtime.
     *
     * @param bytes the bytes (copied)
     * @return whether the runtime took it
     */
    public static boolean send(byte[] bytes) {
        return send(ChildBridge.ACTIVE ? null : CopyContext.of(WALKER.getCallerClass()), Message.of(bytes), false);
    }

    /**
     * Sends a message to the runtime.
     *
     * @param message the message
     * @return whether the runtime took it
     */
    public static boolean send(Message message) {
        return send(ChildBridge.ACTIVE ? null : CopyContext.of(WALKER.getCallerClass()), Objects.requireNonNull(message), false);
    }

    /**
     * Asks the runtime to pass text on to every copy of the app, this one included (and not to the
     * runtime's own handlers).
     *
     * @param text the text
     * @return whether the runtime took it
     */
    public static boolean broadcast(String text) {
        return send(ChildBridge.ACTIVE ? null : CopyContext.of(WALKER.getCallerClass()), Message.of(text), true);
    }

    /**
     * Asks the runtime to pass a message on to every copy of the app, this one included.
     *
     * @param message the message
     * @return whether the runtime took it
     */
    public static boolean broadcast(Message message) {
        return send(ChildBridge.ACTIVE ? null : CopyContext.of(WALKER.getCallerClass()), Objects.requireNonNull(message), true);
    }

    /**
     * Adds a handler for messages from the runtime.
     *
     * @param handler called for each message, on the copy's message thread
     */
    public static void onMessage(Consumer<Message> handler) {
        Objects.requireNonNull(handler, "handler");
        if (ChildBridge.ACTIVE) {
            ChildBridge.onMessage(handler);
            return;
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        if (copy != null) {
            copy.onMessage(handler);
        }
    }

    private static boolean send(CopyContext copy, Message message, boolean relay) {
        if (ChildBridge.ACTIVE) {
            return ChildBridge.send(message, relay);
        }
        return copy != null && copy.sendToHost(message, relay);
    }
}
