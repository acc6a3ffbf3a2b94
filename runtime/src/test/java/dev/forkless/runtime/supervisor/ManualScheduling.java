package dev.forkless.runtime.supervisor;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;

/**
 * The supervisor's mailbox, timer and clock, driven by the test thread: nothing runs until the test
 * {@link #settle settles} or {@link #advance advances} the clock, and a task that throws fails the test.
 */
final class ManualScheduling implements Scheduling {

    private record Timer(Instant due, long order, Runnable task) {
    }

    private final Deque<Runnable> queue = new ArrayDeque<>();
    private final List<Timer> timers = new ArrayList<>();
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private long order;
    private boolean shutdown;
    /** Timers of this delay are held back (as the real timer, while the heap is full, cannot queue them). */
    private Duration losing;
    private final List<Runnable> held = new ArrayList<>();

    @Override
    public InstantSource clock() {
        return () -> now;
    }

    Instant now() {
        return now;
    }

    @Override
    public boolean post(Runnable task) {
        if (shutdown) {
            return false;
        }
        queue.add(task);
        return true;
    }

    @Override
    public void work(Runnable task) {
        if (!shutdown) {
            queue.add(task);
        }
    }

    @Override
    public Runnable schedule(Duration delay, Runnable task) {
        if (shutdown) {
            return () -> { };
        }
        if (delay.equals(losing)) {
            held.add(task);
            return () -> held.remove(task);
        }
        Timer timer = new Timer(now.plus(delay), order++, task);
        timers.add(timer);
        return () -> timers.remove(timer);
    }

    /** Holds back every timer of {@code delay} set from now on, until {@link #releaseHeld}; null: none. */
    void loseTimersOf(Duration delay) {
        losing = delay;
    }

    /** Queues the held timers' tasks at last (a timer that got to queue its step long after it was due), and settles. */
    void releaseHeld() {
        held.forEach(this::post);
        held.clear();
        settle();
    }

    /** @return timers not yet run nor cancelled */
    int pendingTimers() {
        return timers.size();
    }

    @Override
    public void shutdown() {
        shutdown = true;
        timers.clear();
    }

    boolean isShutdown() {
        return shutdown;
    }

    /** Runs every queued task, and what they queue, until nothing is left (the clock stands still). */
    void settle() {
        for (int steps = 0; !queue.isEmpty(); steps++) {
            if (steps > 100_000) {
                throw new AssertionError("the mailbox never settles");
            }
            queue.poll().run();
        }
    }

    /** Moves the clock on by {@code duration}, running each timer when it is due, and settles. */
    void advance(Duration duration) {
        Instant target = now.plus(duration);
        settle();
        while (true) {
            Timer next = timers.stream().filter(t -> !t.due().isAfter(target))
                    .min(Comparator.comparing(Timer::due).thenComparingLong(Timer::order)).orElse(null);
            if (next == null) {
                break;
            }
            timers.remove(next);
            if (next.due().isAfter(now)) {
                now = next.due();
            }
            post(next.task());
            settle();
        }
        now = target;
    }
}
