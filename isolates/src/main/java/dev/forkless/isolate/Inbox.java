package dev.forkless.isolate;

import org.jctools.queues.atomic.MpscAtomicArrayQueue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A bounded many-producers, one-consumer inbox drained by one thread: a JCTools MPSC array queue, and a
 * drainer that parks when there is nothing to do. Producers never wait for the consumer unless the
 * inbox is full; then they wait (back-pressure, at most {@link #MAX_WAIT}) or drop and count, as
 * configured. Items from one producer thread are delivered in the order it offered them.
 *
 * @param <T> the items
 */
public final class Inbox<T> {

    /** How long a producer waits for room before the item counts as dropped, with back-pressure. */
    public static final Duration MAX_WAIT = Duration.ofSeconds(5);
    /**
     * How long the drainer keeps polling an empty queue before it parks: in a conversation the next
     * message often follows within microseconds, and waking a parked thread costs more than that.
     */
    private static final long SPIN_NANOS = Long.getLong("forkless.inbox.spinNanos", 0L);

    /** What the drainer does. */
    public interface Drain<T> {
        /** @param item the next item, in order */
        void deliver(T item);

        /**
         * Other work the drainer does between items, announced by {@link Inbox#signal()}.
         *
         * @return whether there was some
         */
        default boolean work() {
            return false;
        }
    }

    private final MpscAtomicArrayQueue<T> queue;
    private final boolean blockWhenFull;
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final LongAdder dropped = new LongAdder();
    private volatile boolean signalled;
    private volatile boolean closed;
    private volatile Thread drainer;

    /**
     * @param capacity      items it holds at most (rounded up to a power of two, at least 2)
     * @param blockWhenFull whether a producer waits for room (true) or drops the item (false)
     */
    public Inbox(int capacity, boolean blockWhenFull) {
        if (capacity < 1) {
            throw new IllegalArgumentException("inbox capacity must be at least 1, not " + capacity);
        }
        this.queue = new MpscAtomicArrayQueue<>(Math.max(2, capacity));
        this.blockWhenFull = blockWhenFull;
    }

    /**
     * Starts the drainer.
     *
     * @param builder makes its thread (name, kind, context loader)
     * @param drain   what it does
     * @return the drainer thread
     */
    public Thread start(Thread.Builder builder, Drain<T> drain) {
        return start(builder, null, drain);
    }

    /**
     * Starts the drainer with a context class loader of its own.
     *
     * @param builder       makes its thread (name, kind)
     * @param contextLoader its context class loader, or null for the one it inherits
     * @param drain         what it does
     * @return the drainer thread
     */
    public Thread start(Thread.Builder builder, ClassLoader contextLoader, Drain<T> drain) {
        Thread thread = builder.unstarted(() -> run(drain));
        if (contextLoader != null) {
            thread.setContextClassLoader(contextLoader);
        }
        drainer = thread;
        thread.start();
        return thread;
    }

    /**
     * Offers an item: waits for room or drops it when the inbox is full, as configured.
     *
     * @param item the item
     * @return whether it was taken
     */
    public boolean offer(T item) {
        if (closed) {
            dropped.increment();
            return false;
        }
        if (!queue.offer(item)) {
            if (!blockWhenFull || !waitToOffer(item)) {
                dropped.increment();
                return false;
            }
        }
        wake();
        return true;
    }

    private boolean waitToOffer(T item) {
        long deadline = System.nanoTime() + MAX_WAIT.toNanos();
        long pause = 1_000;
        do {
            wake();
            if (Thread.currentThread() == drainer) {
                return false; // waiting for itself would never end
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 1_000_000);
            if (closed || System.nanoTime() > deadline) {
                return false;
            }
        } while (!queue.offer(item));
        return true;
    }

    /** Tells the drainer there is other work ({@link Drain#work()}). */
    public void signal() {
        signalled = true;
        wake();
    }

    private void wake() {
        if (sleeping.get()) {
            Thread thread = drainer;
            if (thread != null) {
                LockSupport.unpark(thread);
            }
        }
    }

    private void run(Drain<T> drain) {
        while (!closed) {
            T item = queue.poll();
            if (item != null) {
                drain.deliver(item);
                continue;
            }
            signalled = false;
            if (drain.work()) {
                continue;
            }
            if (SPIN_NANOS > 0) {
                long idleSince = System.nanoTime();
                while (queue.isEmpty() && !signalled && !closed && System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                }
            }
            sleeping.set(true);
            if (queue.isEmpty() && !signalled && !closed) {
                LockSupport.park(this);
                Thread.interrupted(); // an app's interrupt must not turn the wait into a spin
            }
            sleeping.set(false);
        }
    }

    /**
     * Stops the drainer after the item it is delivering; what is still queued is dropped.
     *
     * @return the drainer thread, or {@code null} if none was started
     */
    public Thread close() {
        closed = true;
        Thread thread = drainer;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
        queue.clear();
        return thread;
    }

    /** @return items dropped so far: full, closed, or (by the drainer's choice) not handled */
    public long dropped() {
        return dropped.sum();
    }

    /** Counts an item the drainer could not hand to anyone. */
    public void countDropped() {
        dropped.increment();
    }

    /** @return items waiting */
    public int size() {
        return queue.size();
    }
}
