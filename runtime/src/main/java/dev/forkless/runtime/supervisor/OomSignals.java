package dev.forkless.runtime.supervisor;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Copies whose code caught an {@code OutOfMemoryError}, or whose crash could not be reported for want of
 * heap, passed from the app's thread to the supervisor without allocating: the heap may still be full
 * there (the app's handler still holds what it allocated). The app's thread claims a slot of
 * preallocated arrays and wakes this class's own thread, which hands the copy on once an allocation
 * succeeds again (it tries every {@link #RETRY_MILLIS}).
 */
final class OomSignals implements AutoCloseable {

    /** Copies told at once at most; more wait for a free slot or are dropped (their copy is told again at its next error). */
    private static final int CAPACITY = 32;
    private static final long RETRY_MILLIS = 50;

    /** What the thread does with a signal: may allocate, may throw {@code OutOfMemoryError} (then it tries again). */
    interface Handler {
        void outOfMemory(Copy copy, String thread, String error);

        void crashed(Copy copy, Throwable cause);
    }

    private final AtomicReferenceArray<Copy> copies = new AtomicReferenceArray<>(CAPACITY);
    private final AtomicReferenceArray<String> threads = new AtomicReferenceArray<>(CAPACITY);
    private final AtomicReferenceArray<String> errors = new AtomicReferenceArray<>(CAPACITY);
    /** Set for a crash, null for a caught error. */
    private final AtomicReferenceArray<Throwable> crashes = new AtomicReferenceArray<>(CAPACITY);
    /** 1 once a slot's copy, thread and error are all set. */
    private final AtomicIntegerArray complete = new AtomicIntegerArray(CAPACITY);
    private final Handler handler;
    private final Thread thread;
    private volatile boolean closed;

    OomSignals(Handler handler) {
        this.handler = handler;
        this.thread = Supervisor.runtimeThreads().name("forkless-oom-signals").start(this::run);
    }

    /**
     * On the app's thread: allocates nothing.
     *
     * @return whether a slot was free
     */
    boolean signal(Copy copy, String threadName, String error) {
        return claim(copy, threadName, error, null);
    }

    /**
     * On the app's thread, whose crash report failed for want of heap: allocates nothing.
     *
     * @return whether a slot was free
     */
    boolean crashed(Copy copy, Throwable cause) {
        return claim(copy, null, null, cause);
    }

    private boolean claim(Copy copy, String threadName, String error, Throwable crash) {
        for (int i = 0; i < CAPACITY; i++) {
            if (copies.compareAndSet(i, null, copy)) {
                threads.set(i, threadName);
                errors.set(i, error);
                crashes.set(i, crash);
                complete.set(i, 1);
                LockSupport.unpark(thread);
                return true;
            }
        }
        return false;
    }

    private void run() {
        while (!closed) {
            boolean retry = false;
            for (int i = 0; i < CAPACITY; i++) {
                if (complete.get(i) == 1) {
                    try {
                        Throwable crash = crashes.get(i);
                        if (crash != null) {
                            handler.crashed(copies.get(i), crash);
                        } else {
                            handler.outOfMemory(copies.get(i), threads.get(i), errors.get(i));
                        }
                    } catch (OutOfMemoryError full) {
                        retry = true;
                        continue;
                    } catch (RuntimeException e) {
                        // dropped: the handler failed for another reason
                    }
                    complete.set(i, 0);
                    threads.set(i, null);
                    errors.set(i, null);
                    crashes.set(i, null);
                    copies.set(i, null);
                }
            }
            if (retry) {
                LockSupport.parkNanos(RETRY_MILLIS * 1_000_000);
            } else {
                LockSupport.park(this);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
