package dev.forkless.child;

import java.util.Map;
import java.util.function.BiConsumer;

/**
 * What the app API ({@code dev.forkless.api}) calls in a child JVM, where there is no isolate. Only JDK
 * types cross: the API classes may come from the app's own class path (a copy of forkless-isolates the
 * app bundles) or from this agent jar, and find this class by name through the system class loader.
 * Internal to Forkless.
 */
public final class ChildApi {

    private ChildApi() {
    }

    private static ChildCopy copy() {
        ChildCopy copy = ChildCopy.current();
        if (copy == null) {
            throw new IllegalStateException("forkless: not in a child JVM");
        }
        return copy;
    }

    /** @return whether this JVM is a child of the runtime */
    public static boolean active() {
        return ChildCopy.current() != null;
    }

    /** @return the copy's id */
    public static String id() {
        return copy().id();
    }

    /** The app says it is ready. */
    public static void ready() {
        copy().ready();
    }

    /**
     * @param kind    {@code t} or {@code b}
     * @param payload text, or base64 bytes
     * @param relay   pass it on to every copy
     * @return whether it was sent
     */
    public static boolean send(String kind, String payload, boolean relay) {
        return copy().sendMessage(kind, payload, relay);
    }

    /** @param handler (kind, payload) */
    public static void onMessage(BiConsumer<String, String> handler) {
        copy().onMessage(handler);
    }

    /** @return the value, or {@code null} */
    public static String get(String key) {
        return copy().get(key);
    }

    /** @return every key and value */
    public static Map<String, String> all() {
        return copy().all();
    }

    /** Sets ({@code value} non-null) or removes a key for every copy. */
    public static void put(String key, String value) {
        copy().put(key, value);
    }

    /** @param listener (key, value or null) */
    public static void onChange(BiConsumer<String, String> listener) {
        copy().onChange(listener);
    }
}
