package dev.forkless.runtime.supervisor;

import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Where the supervisor's work runs and what time it is: its mailbox (one task at a time, in order), a
 * place for slow work (starting and unloading copies), a timer and a clock. The runtime uses
 * {@link #onThreads()}; a test drives a manual one and moves its clock by hand.
 */
interface Scheduling {

    /** @return the clock every decision reads */
    InstantSource clock();

    /**
     * Queues a task on the mailbox.
     *
     * @return false when the mailbox has shut down: the task will never run
     */
    boolean post(Runnable task);

    /** Runs slow work (a copy's start, its unload) off the mailbox; it reports back with {@link #post}. */
    void work(Runnable task);

    /**
     * Posts {@code task} to the mailbox after {@code delay}.
     *
     * @return cancels it (a timer that is no longer needed lets go of what its task holds)
     */
    Runnable schedule(Duration delay, Runnable task);

    /** Ends the timer and the threads; tasks already queued on the mailbox still run. */
    void shutdown();

    /**
     * The runtime's: one platform thread for the mailbox, one for the timer, a platform thread per slow
     * task (see {@link Supervisor#runtimeThreads()} for why not virtual threads).
     */
    static Scheduling onThreads() {
        return new Threads();
    }

    final class Threads implements Scheduling {
        /** How often a task that failed for want of heap is tried again, and the pause before each try. */
        private static final int OOM_RETRIES = 200;
        private static final long OOM_PAUSE_MILLIS = 50;
        /** The reserve given up when a copy fills the heap, for the runtime's own steps. */
        private static final int RESERVE_BYTES = 8 << 20;
        private final ExecutorService mailbox = Executors.newSingleThreadExecutor(
                Supervisor.runtimeThreads().name("forkless-supervisor").factory());
        private final java.util.concurrent.ScheduledThreadPoolExecutor timer =
                new java.util.concurrent.ScheduledThreadPoolExecutor(1, Supervisor.runtimeThreads().name("forkless-timer").factory());
        private final ExecutorService blocking = Executors.newThreadPerTaskExecutor(
                Supervisor.runtimeThreads().name("forkless-work-", 0).factory());

        private Threads() {
            timer.setRemoveOnCancelPolicy(true);
        }

        @Override
        public InstantSource clock() {
            return InstantSource.system();
        }

        @Override
        public boolean post(Runnable task) {
            try {
                mailbox.execute(new Retried(task, true));
                return true;
            } catch (RejectedExecutionException stopped) {
                return false; // the supervisor has terminated
            }
        }

        @Override
        public void work(Runnable task) {
            try {
                blocking.execute(new Retried(task, false));
            } catch (RejectedExecutionException stopped) {
                // the supervisor has terminated
            }
        }

        /**
         * A task that fails for want of heap (a copy filled the shared heap) is not lost, or the steps that
         * free the heap (the full copy's drain poll, its unload) would be, and the runtime wedged (it did, in
         * CI): the first such failure gives up the reserve the scheduler keeps for this, and the task is tried
         * again after a pause, {@link #OOM_RETRIES} times at most; a mailbox task at the back of the mailbox,
         * so that the others run meanwhile, slow work on its own thread. A task is assumed to fail at its
         * first allocation, before it changed anything. Nothing is allocated on the way back: this object is
         * the one queued again.
         */
        private final class Retried implements Runnable {
            private final Runnable task;
            private final boolean onMailbox;
            private int failures;

            Retried(Runnable task, boolean onMailbox) {
                this.task = task;
                this.onMailbox = onMailbox;
            }

            @Override
            public void run() {
                while (true) {
                    try {
                        task.run();
                        rearm();
                        return;
                    } catch (OutOfMemoryError full) {
                        reserve = null;
                        if (++failures > OOM_RETRIES || !pause()) {
                            return;
                        }
                        if (onMailbox && requeue()) {
                            return;
                        }
                    } catch (RuntimeException | Error e) {
                        try {
                            System.getLogger("forkless").log(System.Logger.Level.ERROR, "supervisor task failed", e);
                        } catch (OutOfMemoryError full) {
                            // no room to say so, but the thread lives on
                        }
                        return;
                    }
                }
            }

            /** @return whether it is at the back of the mailbox again (else it is tried again here) */
            private boolean requeue() {
                try {
                    mailbox.execute(this);
                    return true;
                } catch (RejectedExecutionException stopped) {
                    failures = Integer.MAX_VALUE - 1; // the supervisor has terminated: one last try here
                    return false;
                } catch (OutOfMemoryError stillFull) {
                    return false;
                }
            }
        }

        /** The heap kept for the runtime's own steps when a copy fills it (see {@link Retried}). */
        private volatile byte[] reserve = new byte[RESERVE_BYTES];
        private volatile long reserveGoneAt;

        /** Keeps a reserve again, a while after the heap was full (a failed allocation is harmless). */
        private void rearm() {
            if (reserve == null) {
                long now = System.nanoTime();
                if (reserveGoneAt == 0) {
                    reserveGoneAt = now;
                } else if (now - reserveGoneAt > 10_000_000_000L) {
                    try {
                        reserve = new byte[RESERVE_BYTES];
                        reserveGoneAt = 0;
                    } catch (OutOfMemoryError full) {
                        reserveGoneAt = now;
                    }
                }
            }
        }

        /** @return false when interrupted */
        private static boolean pause() {
            try {
                Thread.sleep(OOM_PAUSE_MILLIS);
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        @Override
        public Runnable schedule(Duration delay, Runnable task) {
            try {
                Retried retried = new Retried(task, true); // allocated now, while there is room
                var scheduled = timer.schedule(() -> {
                    try {
                        mailbox.execute(retried);
                    } catch (RejectedExecutionException stopped) {
                        // the supervisor has terminated
                    } catch (OutOfMemoryError full) {
                        reserve = null;
                        if (pause()) {
                            try {
                                mailbox.execute(retried);
                            } catch (RejectedExecutionException | OutOfMemoryError lost) {
                                // terminated, or no room at all
                            }
                        }
                    }
                }, delay.toNanos(), TimeUnit.NANOSECONDS);
                return () -> scheduled.cancel(false);
            } catch (RejectedExecutionException stopped) {
                return () -> { }; // the supervisor has terminated
            }
        }

        @Override
        public void shutdown() {
            timer.shutdownNow();
            blocking.shutdown();
            mailbox.shutdown();
        }
    }
}
