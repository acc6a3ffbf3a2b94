package dev.forkless.child;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each request in flight started, for the runtime's hang watchdog: one slot per request thread,
 * written at the start and end of each request (as the isolate's clock does).
 */
final class RequestClock {

    private final ThreadLocal<Slot> slots = new ThreadLocal<>();
    private final Set<Slot> registered = ConcurrentHashMap.newKeySet();

    void started() {
        Slot slot = slots.get();
        if (slot == null) {
            slot = new Slot(Thread.currentThread());
            slots.set(slot);
            registered.add(slot);
        }
        slot.since = System.nanoTime();
    }

    void finished() {
        Slot slot = slots.get();
        if (slot != null) {
            slot.since = 0;
        }
    }

    /** @return how long the oldest request in flight has been running, or 0 */
    long oldestNanos(long now) {
        long oldest = 0;
        for (Slot slot : registered) {
            long since = slot.since;
            if (since != 0) {
                oldest = Math.max(oldest, now - since);
            } else if (!slot.thread.isAlive()) {
                registered.remove(slot);
            }
        }
        return oldest;
    }

    private static final class Slot {
        private final Thread thread;
        private volatile long since;

        Slot(Thread thread) {
            this.thread = thread;
        }
    }
}
