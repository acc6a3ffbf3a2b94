package dev.forkless.api.spi;

import dev.forkless.api.Message;
import dev.forkless.api.Worker;

import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The copy of an app that a class runs in, as the app API ({@link dev.forkless.api.Worker},
 * {@link dev.forkless.api.Messages}, {@link dev.forkless.api.SharedState}) reaches it in isolate mode.
 * Forkless implements it (an isolate, found through the class loader that defined the app's classes);
 * the API depends on this interface only, never on the isolate's classes. Not for apps.
 */
public interface CopyContext {

    /** @return the copy's id */
    String id();

    /** @return how the copy runs */
    Worker.Mode mode();

    /**
     * @param name a variable
     * @return its value in the environment the copy sees now, or {@code null}
     */
    default String getenv(String name) {
        return null;
    }

    /** The app says it is ready to serve. */
    void signalReady();

    /**
     * @param message the message
     * @param relay   whether the runtime passes it on to every copy
     * @return whether the runtime took it
     */
    boolean sendToHost(Message message, boolean relay);

    /** @param handler receives each message from the runtime, on the copy's message thread */
    void onMessage(Consumer<Message> handler);

    /**
     * @param key the key
     * @return its value as this copy sees it, or {@code null}
     */
    String sharedValue(String key);

    /** @return the shared state as this copy sees it */
    Map<String, String> sharedValues();

    /**
     * Changes a key for every copy; returns once the runtime took the change.
     *
     * @param key   the key
     * @param value the value, or {@code null} to remove it
     */
    void putShared(String key, String value);

    /** @param listener receives (key, value or {@code null}) of each change, on the copy's message thread */
    void onSharedChange(BiConsumer<String, String> listener);

    /** A class loader that defines the classes of one copy. */
    interface Loader {
        /** @return the copy whose classes this loader defines */
        CopyContext copyContext();
    }

    /**
     * @param type a class
     * @return the copy whose loader (or one of its ancestors) defined it, or {@code null}
     */
    static CopyContext of(Class<?> type) {
        for (ClassLoader l = type == null ? null : type.getClassLoader(); l != null; l = l.getParent()) {
            if (l instanceof Loader loader) {
                return loader.copyContext();
            }
        }
        return null;
    }
}
