package dev.forkless.runtime.state;

import dev.forkless.runtime.supervisor.Copy;
import dev.forkless.api.Message;
import dev.forkless.isolate.Inbox;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * The runtime's side of messages and shared state: the copies that can be reached, by id; the runtime's
 * one inbox of messages from copies (a bounded MPSC queue drained by one virtual thread that calls the
 * embedder's handlers, so each copy's messages arrive in the order it sent them); and the shared store.
 */
public final class Exchange implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("forkless.messages");

    /** A message and the copy it came from. */
    private record Envelope(String workerId, Message message) {
    }

    private final SharedStore store;
    private final Inbox<Envelope> inbox;
    private final List<BiConsumer<String, Message>> handlers = new CopyOnWriteArrayList<>();
    private final Map<String, Copy> copies = new ConcurrentHashMap<>();
    private final int capacity;
    private final boolean blockWhenFull;

    public Exchange(SharedStore store, int capacity, boolean blockWhenFull) {
        this.store = store;
        this.capacity = capacity;
        this.blockWhenFull = blockWhenFull;
        this.inbox = new Inbox<>(capacity, blockWhenFull);
        // a virtual thread: it woke faster than a platform thread in the round-trip benchmark of 2026-12-03
        // (docs/decisions.md, "Drainers are virtual threads")
        inbox.start(Thread.ofVirtual().name("forkless-messages"), this::deliver);
    }

    private void deliver(Envelope envelope) {
        if (handlers.isEmpty()) {
            inbox.countDropped();
            return;
        }
        for (BiConsumer<String, Message> handler : handlers) {
            try {
                handler.accept(envelope.workerId(), envelope.message());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "message handler failed", e);
            }
        }
    }

    /** @return the capacity of each inbox */
    public int capacity() {
        return capacity;
    }

    /** @return whether a full inbox makes the sender wait */
    public boolean blockWhenFull() {
        return blockWhenFull;
    }

    public SharedStore store() {
        return store;
    }

    public void onMessage(BiConsumer<String, Message> handler) {
        handlers.add(handler);
    }

    /** A copy starts: it gets the shared state, then can be reached. */
    public void attach(Copy copy) {
        store.attach(copy);
        copies.put(copy.id(), copy);
    }

    /** A copy is gone. */
    public void detach(Copy copy) {
        copies.remove(copy.id(), copy);
        store.detach(copy);
    }

    public boolean send(String workerId, Message message) {
        Copy copy = copies.get(workerId);
        return copy != null && copy.deliver(message);
    }

    public int broadcast(Message message) {
        int delivered = 0;
        for (Copy copy : copies.values()) {
            if (copy.deliver(message)) {
                delivered++;
            }
        }
        return delivered;
    }

    /** A message from a copy: to the runtime's handlers, or passed on to every copy. */
    public boolean fromCopy(Copy from, Message message, boolean relay) {
        if (relay) {
            broadcast(message);
            return true;
        }
        return inbox.offer(new Envelope(from.id(), message));
    }

    /** A change from a copy. */
    public void put(String key, String value) {
        store.change(key, value);
    }

    /** @return messages dropped by the runtime's inbox (full, or no handler) */
    public long dropped() {
        return inbox.dropped();
    }

    @Override
    public void close() {
        inbox.close();
        store.close();
    }
}
