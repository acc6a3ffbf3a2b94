package dev.forkless.isolate;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * When each request in flight in one isolate started, for the hang watchdog, at the cost of a thread-local
 * read and two plain volatile writes per request.
 *
 * <p>Each thread that handles requests (in Helidon, one virtual thread per connection) gets one slot, made
 * the first time and registered once; a request writes its start time into its thread's slot and clears
 * it when done. The watchdog reads every slot; slots of threads that have ended are dropped then. (A map
 * keyed by thread, written on every request, cost about 5% of the samples under load: profiled.)
 */
final class RequestClock {

    private final ThreadLocal<Slot> slots = new ThreadLocal<>();
    private final Set<Slot> registered = ConcurrentHashMap.newKeySet();

    /**
     * A request starts on the calling thread.
     *
     * @param responding whether its response has started (a stream: SSE, a chunked download, an upgrade),
     *                   asked only of a request older than the hang timeout; {@code null}: never
     */
    void started(BooleanSupplier responding) {
        Slot slot = slots.get();
        if (slot == null) {
            slot = new Slot(Thread.currentThread());
            slots.set(slot);
            registered.add(slot);
        }
        slot.responding = responding;
        slot.since = System.nanoTime();
    }

    /** The calling thread's request ended. */
    void finished() {
        Slot slot = slots.get();
        if (slot != null) {
            slot.since = 0;
        }
    }

    /** @return how long the oldest request in flight has been running, or 0 */
    long oldestNanos(long now) {
        return oldestNanos(now, Long.MAX_VALUE);
    }

    /**
     * How long the oldest request in flight that has not started its response has been running: a
     * request older than {@code patience} whose response is streaming is making progress of its own and
     * is left out.
     *
     * @return nanoseconds, or 0
     */
    long oldestWithoutResponseNanos(long now, long patience) {
        return oldestNanos(now, patience);
    }

    private long oldestNanos(long now, long patience) {
        long oldest = 0;
        for (Slot slot : registered) {
            long since = slot.since;
            if (since != 0) {
                long age = now - since;
                if (age > oldest && !(age > patience && slot.isResponding())) {
                    oldest = age;
                }
            } else if (!slot.thread.isAlive()) {
                registered.remove(slot);
            }
        }
        return oldest;
    }

    /** @return requests in flight now */
    int inFlight() {
        int n = 0;
        for (Slot slot : registered) {
            if (slot.since != 0) {
                n++;
            }
        }
        return n;
    }

    /** @return the threads handling a request now */
    List<Thread> busyThreads() {
        return registered.stream().filter(s -> s.since != 0).map(s -> s.thread).toList();
    }

    void clear() {
        registered.clear();
    }

    private static final class Slot {
        final Thread thread;
        volatile long since;
        volatile BooleanSupplier responding;

        boolean isResponding() {
            BooleanSupplier r = responding;
            try {
                return r != null && r.getAsBoolean();
            } catch (RuntimeException | LinkageError e) {
                return false;
            }
        }

        Slot(Thread thread) {
            this.thread = thread;
        }
    }
}
