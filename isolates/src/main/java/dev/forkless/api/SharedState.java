package dev.forkless.api;

import dev.forkless.api.spi.CopyContext;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * A key/value map of strings that the runtime holds and every copy of the app reads locally, as
 * "state sharing" between Node workers. The runtime pushes each change to every copy (no polling); a
 * copy started later sees the current values from the start of its {@code main}. Changes come from the
 * embedding program, the admin API and the copies themselves ({@link #put}).
 *
 * <p>Alone ({@code java -jar app.jar}) the map is local to the JVM.
 */
public final class SharedState {

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    /** Only for an app running alone, without Forkless: there is no runtime to hold the map. */
    private static final Map<String, String> ALONE = new ConcurrentHashMap<>();

    private SharedState() {
    }

    /**
     * @param key the key
     * @return its current value in this copy, or {@code null}
     */
    public static String get(String key) {
        Objects.requireNonNull(key, "key");
        if (ChildBridge.ACTIVE) {
            return ChildBridge.get(key);
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        return copy == null ? ALONE.get(key) : copy.sharedValue(key);
    }

    /** @return an immutable snapshot of every key and value this copy sees */
    public static Map<String, String> all() {
        if (ChildBridge.ACTIVE) {
            return ChildBridge.all();
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        return Map.copyOf(copy == null ? ALONE : copy.sharedValues());
    }

    /**
     * Sets a key for every copy. Returns once the runtime has taken (and, with a state file, persisted)
     * the change; this copy sees the new value then.
     *
     * @param key   the key
     * @param value the value
     * @throws IllegalStateException when the runtime could not take the change
     */
    public static void put(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (ChildBridge.ACTIVE) {
            ChildBridge.put(key, value);
            return;
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        if (copy == null) {
            ALONE.put(key, value);
        } else {
            copy.putShared(key, value);
        }
    }

    /**
     * Removes a key for every copy, as {@link #put} sets one.
     *
     * @param key the key
     */
    public static void remove(String key) {
        Objects.requireNonNull(key, "key");
        if (ChildBridge.ACTIVE) {
            ChildBridge.put(key, null);
            return;
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        if (copy == null) {
            ALONE.remove(key);
        } else {
            copy.putShared(key, null);
        }
    }

    /**
     * Adds a listener for changes. It runs on the copy's message thread, one change at a time, with the
     * key and its value at the time it runs ({@code null}: removed); changes of one key that come
     * quicker than the listener runs are reported once, with the latest value.
     *
     * @param listener (key, value or {@code null})
     */
    public static void onChange(BiConsumer<String, String> listener) {
        Objects.requireNonNull(listener, "listener");
        if (ChildBridge.ACTIVE) {
            ChildBridge.onChange(listener);
            return;
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        if (copy != null) {
            copy.onSharedChange(listener);
        }
    }
}
