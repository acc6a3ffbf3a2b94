package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.Mode;
import java.io.IOException;
import java.time.Duration;

/**
 * One running copy of the app, as the supervisor sees it: an isolate in this JVM, or a child JVM. The
 * supervisor drives every kind the same way.
 */
public interface Copy {

    /** @return the copy's id */
    String id();

    /** @return {@code isolate} or {@code process} */
    Mode mode();

    /** @return the process that runs it */
    long pid();

    /**
     * Starts the app; returns once it runs (not once it is ready).
     *
     * @throws dev.forkless.isolate.BadAppException when the app cannot be started at all
     */
    void start();

    /**
     * A standby takes over a serving slot: from now on the copy is instance {@code instance}
     * ({@code FORKLESS_INSTANCE}, {@code Worker.instance()}). Called before {@link #startAccepting()}.
     *
     * @param instance the slot's instance number, {@code 0..n-1}
     */
    default void takeInstance(int instance) {
    }

    /** Lets it take connections (a standby taking over a slot). */
    void startAccepting();

    /** Stops it taking connections and makes its responses end their connections. */
    void beginDrain();

    /** @return its connections still open */
    int openConnections();

    /**
     * @return whether {@link #openConnections()} counts every connection the copy took before it stopped
     *         accepting: a child JVM's count comes in its stats, which lag; after {@link #beginDrain()} it is
     *         known only once the child answered that it drains. The supervisor unloads a draining copy
     *         only once its count is known and zero (or at the drain timeout).
     */
    default boolean drainCounted() {
        return true;
    }

    /** @return requests it served */
    long requests();

    /**
     * @param timeout the hang timeout
     * @return why the copy looks hung (no progress for longer than {@code timeout}), or {@code null}
     */
    default String hung(Duration timeout) {
        return null;
    }

    /**
     * Ends it: what is still open is closed by force, its shutdown hooks run, it is unloaded.
     *
     * @param grace how long its shutdown gets
     * @return what could not be cleaned up
     */
    dev.forkless.isolate.Isolate.UnloadReport unload(Duration grace);

    /**
     * Passes a message from the runtime to the app: waits for room or drops it when the copy's inbox is
     * full, as configured.
     *
     * @param message the message
     * @return whether the copy took it
     */
    boolean deliver(dev.forkless.api.Message message);

    /**
     * The whole shared state, before the app starts; changes follow through {@link #sharedChanged}.
     *
     * @param all every key and value
     */
    void sharedSnapshot(java.util.Map<String, String> all);

    /**
     * One key of the shared state changed. Must not block for long: called under the store's lock.
     *
     * @param key   the key
     * @param value its value, or {@code null} when removed
     */
    void sharedChanged(String key, String value);

    /** What a copy tells the supervisor; called from any thread, never blocks. */
    interface Events {
        void ready(Copy copy);

        void exited(Copy copy, int status);

        void crashed(Copy copy, Throwable cause);

        void bindFailed(Copy copy, IOException cause);

        /**
         * The app's code caught an {@code OutOfMemoryError} and goes on: the copy runs, maybe broken.
         * Called on the app's thread, maybe with the heap still full.
         *
         * @param copy   the copy
         * @param thread the thread that caught it
         * @param error  the error's message ({@code Java heap space}, ...)
         */
        default void outOfMemory(Copy copy, String thread, String error) {
        }
    }
}
