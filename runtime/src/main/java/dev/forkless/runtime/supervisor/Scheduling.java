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
            return post(task, 0);
        }

        /**
         * A task that fails for want of heap (a copy filled the shared heap) is not lost: it goes to the back
         * of the mailbox after a pause, so the steps that free the heap (the full copy's drain, its unload)
         * still run; dropped, one of them wedged the runtime. A task is assumed to fail at its first
         * allocation, before it changed anything; after {@link #OOM_RETRIES} it is given up.
         */
        private boolean post(Runnable task, int failures) {
            try {
                mailbox.execute(() -> {
                    try {
                        task.run();
                    } catch (OutOfMemoryError full) {
                        retryLater(failures, () -> post(task, failures + 1));
                    } catch (RuntimeException | Error e) {
                        try {
                            System.getLogger("forkless").log(System.Logger.Level.ERROR, "supervisor task failed", e);
                        } catch (OutOfMemoryError full) {
                            // a copy filled the shared heap: no room to say so, but the mailbox thread lives on
                        }
                    }
                });
                return true;
            } catch (RejectedExecutionException stopped) {
                return false; // the supervisor has terminated
            }
        }

        @Override
        public void work(Runnable task) {
            work(task, 0);
        }

        private void work(Runnable task, int failures) {
            try {
                blocking.execute(() -> {
                    try {
                        task.run();
                    } catch (OutOfMemoryError full) {
                        retryLater(failures, () -> work(task, failures + 1));
                    }
                });
            } catch (RejectedExecutionException stopped) {
                // the supervisor has terminated
            } catch (OutOfMemoryError full) {
                retryLater(failures, () -> work(task, failures + 1));
            }
        }

        /** After a pause that allocates nothing, runs {@code again}, unless the task failed too often. */
        private static void retryLater(int failures, Runnable again) {
            if (failures >= OOM_RETRIES) {
                return;
            }
            try {
                Thread.sleep(OOM_PAUSE_MILLIS);
                again.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (OutOfMemoryError stillFull) {
                // no room even to queue it again: given up
            }
        }

        @Override
        public Runnable schedule(Duration delay, Runnable task) {
            try {
                var scheduled = timer.schedule(() -> {
                    try {
                        post(task);
                    } catch (OutOfMemoryError full) {
                        retryLater(0, () -> post(task, 1));
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
