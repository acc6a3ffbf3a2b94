package dev.forkless.runtime.state;

import dev.forkless.runtime.supervisor.Copy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * The runtime's shared state: a key/value map of strings that every copy of the app reads locally
 * ({@code dev.forkless.api.SharedState}) and is told about when a key changes. Changes come from the
 * embedding program (this class), the admin API and the copies; each is written ahead to the state file
 * (when there is one: appended and forced to disk), then applied and pushed to every copy, in one order
 * for all copies, before the call returns.
 */
public final class SharedStore implements AutoCloseable {

    private final Object lock = new Object();
    private final Map<String, String> values = new LinkedHashMap<>();
    private final List<Copy> copies = new ArrayList<>();
    private final List<BiConsumer<String, String>> listeners = new CopyOnWriteArrayList<>();
    private final StateFile file;

    private SharedStore(StateFile file) {
        this.file = file;
        if (file != null) {
            values.putAll(file.values());
        }
    }

    /** @return a store held in memory only */
    public static SharedStore inMemory() {
        return new SharedStore(null);
    }

    /**
     * @param path the state file: read if it exists, then written ahead of every change
     * @return a store persisted to {@code path}
     * @throws IOException when the file cannot be read or written
     */
    public static SharedStore persistent(Path path) throws IOException {
        return new SharedStore(StateFile.open(path));
    }

    /**
     * @param key the key
     * @return its value, or {@code null}
     */
    public String get(String key) {
        synchronized (lock) {
            return values.get(key);
        }
    }

    /** @return an immutable copy of every key and value */
    public Map<String, String> snapshot() {
        synchronized (lock) {
            return Map.copyOf(values);
        }
    }

    /**
     * Sets a key. Returns once the change is persisted (with a state file) and every running copy's view
     * has it.
     *
     * @param key   the key, not empty
     * @param value the value
     * @throws UncheckedIOException when the state file cannot be written; nothing changed then
     */
    public void put(String key, String value) {
        change(key, Objects.requireNonNull(value, "value"));
    }

    /**
     * Removes a key, as {@link #put} sets one.
     *
     * @param key the key
     * @return whether it was there
     */
    public boolean remove(String key) {
        return change(key, null) != null;
    }

    /**
     * Adds a listener for every change, from whichever side it came. Listeners run on the changing
     * thread, in the order of the changes: they must not block.
     *
     * @param listener (key, new value or {@code null} when removed)
     */
    public void onChange(BiConsumer<String, String> listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    /** Sets ({@code value} not null) or removes a key; returns the previous value. */
    String change(String key, String value) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty()) {
            throw new IllegalArgumentException("a shared state key must not be empty");
        }
        synchronized (lock) {
            if (value == null && !values.containsKey(key)) {
                return null;
            }
            if (file != null) {
                try {
                    file.append(key, value, values);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the shared state file: " + e.getMessage(), e);
                }
            }
            String previous = value == null ? values.remove(key) : values.put(key, value);
            for (Copy copy : copies) {
                copy.sharedChanged(key, value);
            }
            for (BiConsumer<String, String> listener : listeners) {
                try {
                    listener.accept(key, value);
                } catch (RuntimeException e) {
                    System.getLogger("forkless").log(System.Logger.Level.WARNING, "shared state listener failed", e);
                }
            }
            return previous;
        }
    }

    /** A copy starts: it gets every value now, then every change. */
    void attach(Copy copy) {
        synchronized (lock) {
            copy.sharedSnapshot(Map.copyOf(values));
            copies.add(copy);
        }
    }

    /** A copy is gone. */
    void detach(Copy copy) {
        synchronized (lock) {
            copies.remove(copy);
        }
    }

    @Override
    public void close() {
        if (file != null) {
            synchronized (lock) {
                file.close();
            }
        }
    }
}
