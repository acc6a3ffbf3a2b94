package dev.forkless.isolate;

import dev.forkless.api.Message;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One copy's side of messages and shared state: its bounded inbox of messages from the runtime, its
 * local view of the shared state, and the one thread (virtual, running as the copy) that calls the
 * app's message handlers and change listeners.
 *
 * <p>The view is updated by the runtime directly ({@link #stateChanged}), so {@code SharedState.get}
 * sees a change as soon as it is pushed; the listeners hear of it on the copy's thread. Pending change
 * notifications are kept per key, so they are bounded by the number of keys.
 */
public final class IsolateInbox {

    private final Isolate isolate;
    private final Inbox<Message> messages;
    private final List<Consumer<Message>> handlers = new CopyOnWriteArrayList<>();
    private final List<BiConsumer<String, String>> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, String> state = new ConcurrentHashMap<>();
    private final Set<String> pendingKeys = ConcurrentHashMap.newKeySet();
    private final Queue<String> pendingOrder = new ConcurrentLinkedQueue<>();

    IsolateInbox(Isolate isolate, int capacity, boolean blockWhenFull) {
        this.isolate = isolate;
        this.messages = new Inbox<>(capacity, blockWhenFull);
    }

    void start(ClassLoader loader) {
        // a virtual thread, as the copy's other threads: measured against a platform thread on 2026-12-03,
        // it woke faster here (docs/decisions.md, "Drainers are virtual threads"); its context loader, the
        // copy's, set before it starts and again before each delivery, makes it the copy's (Isolate.of)
        Thread.Builder drainer = Thread.ofVirtual().name("isolate-" + isolate.id() + "-messages");
        messages.start(drainer, loader, new Inbox.Drain<>() {
            @Override
            public void deliver(Message message) {
                deliverToApp(message, loader);
            }

            @Override
            public boolean work() {
                return notifyOneChange();
            }
        });
    }

    /** Runs on the drainer: the context loader is the copy's, so the thread counts as the copy's. */
    private void deliverToApp(Message message, ClassLoader loader) {
        Thread.currentThread().setContextClassLoader(loader);
        if (handlers.isEmpty()) {
            messages.countDropped();
            return;
        }
        for (Consumer<Message> handler : handlers) {
            try {
                handler.accept(message);
            } catch (Throwable t) {
                isolate.uncaught(Thread.currentThread(), t);
            }
        }
    }

    private boolean notifyOneChange() {
        String key = pendingOrder.poll();
        if (key == null) {
            return false;
        }
        pendingKeys.remove(key);
        String value = state.get(key);
        for (BiConsumer<String, String> listener : listeners) {
            try {
                listener.accept(key, value);
            } catch (Throwable t) {
                isolate.uncaught(Thread.currentThread(), t);
            }
        }
        return true;
    }

    // ---- the runtime's side ----

    /**
     * Queues a message for the app: waits for room or drops it when the inbox is full, as configured.
     *
     * @param message the message
     * @return whether it was taken
     */
    public boolean deliver(Message message) {
        return messages.offer(Objects.requireNonNull(message));
    }

    /**
     * The whole shared state, before the app starts.
     *
     * @param all every key and value
     */
    public void stateSnapshot(Map<String, String> all) {
        state.clear();
        state.putAll(all);
    }

    /**
     * One key changed: the view has it at once, the listeners hear of it on the copy's thread.
     *
     * @param key   the key
     * @param value its value, or {@code null} when removed
     */
    public void stateChanged(String key, String value) {
        if (value == null) {
            state.remove(key);
        } else {
            state.put(key, value);
        }
        if (!listeners.isEmpty() && pendingKeys.add(key)) {
            pendingOrder.add(key);
            messages.signal();
        }
    }

    /** @return messages dropped: inbox full, no handler registered, or the copy was unloading */
    public long dropped() {
        return messages.dropped();
    }

    Thread close() {
        handlers.clear();
        listeners.clear();
        return messages.close();
    }

    // ---- the app's side (dev.forkless.api) ----

    /** @param handler a message handler of the app */
    public void onMessage(Consumer<Message> handler) {
        handlers.add(Objects.requireNonNull(handler));
    }

    /** @param listener a change listener of the app */
    public void onChange(BiConsumer<String, String> listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    /** @param key the key @return its value in this copy's view, or {@code null} */
    public String get(String key) {
        return state.get(key);
    }

    /** @return the live view (read-only use) */
    public Map<String, String> all() {
        return java.util.Collections.unmodifiableMap(state);
    }
}
