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
     * task (see {@link Supervisor#runtimeThreads()} for why not virtual threads). A mailbox that does not
     * go on for {@link Threads#STALL} is said in the log, with its thread's stack.
     */
    static Scheduling onThreads() {
        return new Threads(Threads.STALL);
    }

    final class Threads implements Scheduling {
        /**
         * A mailbox task that has not finished after this long, or tasks waiting while the mailbox has begun
         * none for this long, is a stall (a backlog of short tasks is not: the mailbox goes on): said once, at WARNING, with the mailbox thread's stack ({@link #watchStall}).
         * Every decision of the supervisor waits behind it (no restart, no drain's end, no stop), so a CI log
         * must show where the mailbox is.
         */
        static final Duration STALL = Duration.ofSeconds(10);
        /** {@link #runningSince} while no mailbox task runs. */
        private static final long IDLE = Long.MIN_VALUE;
        /** How often a task that failed for want of heap is tried again, and the pause before each try. */
        private static final int OOM_RETRIES = 200;
        private static final long OOM_PAUSE_MILLIS = 50;
        /** The reserve given up when a copy fills the heap, for the runtime's own steps. */
        private static final int RESERVE_BYTES = 8 << 20;
        private final java.util.concurrent.ThreadPoolExecutor mailbox = new java.util.concurrent.ThreadPoolExecutor(
                1, 1, 0, TimeUnit.MILLISECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), this::mailboxThread);
        private final java.util.concurrent.ScheduledThreadPoolExecutor timer =
                new java.util.concurrent.ScheduledThreadPoolExecutor(1, Supervisor.runtimeThreads().name("forkless-timer").factory());
        private final ExecutorService blocking = Executors.newThreadPerTaskExecutor(
                Supervisor.runtimeThreads().name("forkless-work-", 0).factory());
        /** The mailbox's thread, once the first task made it. */
        private volatile Thread mailboxThread;
        private final long stallPeriodMillis;
        /** When the mailbox task that runs now began (System.nanoTime), or {@link #IDLE}. */
        private volatile long runningSince = IDLE;
        /** When the last mailbox task ended (System.nanoTime), or {@link #IDLE} before the first. */
        private volatile long lastEnded = IDLE;
        private final long stallNanos;
        /** The start of the stall said last (when it began), or {@link #IDLE}; timer thread only. */
        private long stallSaid = IDLE;

        /** @param stall how long the mailbox may not go on before it is said ({@link #STALL}; shorter in tests) */
        Threads(Duration stall) {
            timer.setRemoveOnCancelPolicy(true);
            this.stallNanos = stall.toNanos();
            this.stallPeriodMillis = Math.max(1, Math.min(1_000, stall.toMillis() / 4));
        }

        /** Makes the mailbox's thread (at its first task), and starts watching it for stalls. */
        private Thread mailboxThread(Runnable worker) {
            Thread thread = Supervisor.runtimeThreads().name("forkless-supervisor").unstarted(worker);
            if (mailboxThread == null) {
                try {
                    timer.scheduleWithFixedDelay(this::watchStall, stallPeriodMillis, stallPeriodMillis,
                            TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException stopped) {
                    // shut down meanwhile: nothing to watch
                }
            }
            mailboxThread = thread;
            return thread;
        }

        @Override
        public InstantSource clock() {
            return InstantSource.system();
        }

        @Override
        public boolean post(Runnable task) {
            try {
                enqueue(new Retried(task, true));
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
            /** When it was queued on the mailbox last (System.nanoTime): {@link #watchStall} reads the oldest's. */
            private long queuedAt;

            Retried(Runnable task, boolean onMailbox) {
                this.task = task;
                this.onMailbox = onMailbox;
            }

            @Override
            public void run() {
                if (!onMailbox) {
                    runOnce();
                    return;
                }
                runningSince = System.nanoTime();
                try {
                    runOnce();
                } finally {
                    lastEnded = System.nanoTime(); // before runningSince: the watch reads them the other way
                    runningSince = IDLE;
                }
            }

            private void runOnce() {
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
                    enqueue(this);
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
                    // queuing allocates (the queue's node): with the heap full, tried again as a failed task
                    // is ({@link Retried}), until the drain of the full copy frees it; lost only after that
                    for (int tries = 0; ; tries++) {
                        try {
                            enqueue(retried);
                            return;
                        } catch (RejectedExecutionException stopped) {
                            return; // the supervisor has terminated
                        } catch (OutOfMemoryError full) {
                            reserve = null;
                            if (tries >= OOM_RETRIES || !pause()) {
                                return; // the supervisor's safety net finds what this step left undone
                            }
                        }
                    }
                }, delay.toNanos(), TimeUnit.NANOSECONDS);
                return () -> scheduled.cancel(false);
            } catch (RejectedExecutionException stopped) {
                return () -> { }; // the supervisor has terminated
            }
        }

        /** Queues a task on the mailbox, noting when. */
        private void enqueue(Retried task) {
            task.queuedAt = System.nanoTime();
            mailbox.execute(task);
        }

        /**
         * On the timer, every second at most: when the task the mailbox runs has not finished for
         * {@link #STALL}, or tasks wait while it has begun none for that long, says so once, with the
         * mailbox thread's stack and the number of tasks waiting, and says when the mailbox goes on. The
         * report is written by a thread of its own: a log that blocks (a console nobody reads) must not stop
         * the timer, which the drains and restarts need.
         */
        private void watchStall() {
            try {
                long now = System.nanoTime();
                long running = runningSince;
                long ended = lastEnded;
                Retried oldest = (Retried) mailbox.getQueue().peek();
                long stuckSince = stuckSince(running, ended, oldest == null ? null : oldest.queuedAt);
                if (stuckSince != IDLE && now - stuckSince > stallNanos) {
                    if (stuckSince != stallSaid) {
                        stallSaid = stuckSince;
                        int waiting = mailbox.getQueue().size();
                        // the mailbox has one thread: a task it runs is what the others wait for, however
                        // long it has run (the oldest may have been queued just before it began)
                        String what = running != IDLE
                                ? "a task of the supervisor's mailbox has not finished for " + (now - running) / 1_000_000
                                        + " ms; " + waiting + " task(s) waiting"
                                        + (oldest == null ? "" : ", the oldest for " + (now - oldest.queuedAt) / 1_000_000 + " ms")
                                : waiting + " task(s) waiting for the supervisor's mailbox, which has begun none for "
                                        + (now - stuckSince) / 1_000_000 + " ms";
                        Thread thread = mailboxThread;
                        report(System.Logger.Level.WARNING, () -> what + " (no restart, drain or stop goes on meanwhile). "
                                + describe(thread));
                    }
                } else if (stallSaid != IDLE) {
                    long since = stallSaid;
                    stallSaid = IDLE;
                    String message = "the supervisor's mailbox went on after a stall of " + (now - since) / 1_000_000 + " ms";
                    report(System.Logger.Level.INFO, () -> message);
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                // the watch must not end the timer's schedule of it: it looks again at its next turn
            }
        }

        /**
         * A running task is what the others wait for. With none running, the mailbox is stuck since its last
         * task ended or since the oldest waiting one came, whichever was later: tasks queued during a stall
         * that has ended do not start another while the mailbox takes them one after the other.
         *
         * @param running      when the running task began, or {@link #IDLE}
         * @param ended        when the last task ended, or {@link #IDLE}
         * @param oldestQueued when the oldest waiting task came, or null when none waits
         * @return since when the mailbox has not gone on (System.nanoTime), or {@link #IDLE}
         */
        static long stuckSince(long running, long ended, Long oldestQueued) {
            if (running != IDLE || oldestQueued == null) {
                return running;
            }
            return ended == IDLE || oldestQueued - ended > 0 ? oldestQueued : ended;
        }

        /**
         * @return the thread's name, state and stack, as a thread dump has them (the locks it holds, the one
         *         it waits for), and the stack of the thread that holds that lock
         */
        static String describe(Thread thread) {
            if (thread == null) {
                return "The mailbox has no thread.";
            }
            try {
                java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
                java.lang.management.ThreadInfo info = threads.getThreadInfo(new long[] {thread.threadId()}, true, true)[0];
                if (info != null) {
                    StringBuilder text = new StringBuilder();
                    dump(info, text);
                    if (info.getLockOwnerId() >= 0) {
                        java.lang.management.ThreadInfo owner =
                                threads.getThreadInfo(new long[] {info.getLockOwnerId()}, true, true)[0];
                        if (owner != null) {
                            text.append("\nThe lock it waits for is held by:\n");
                            dump(owner, text);
                        }
                    }
                    return text.toString();
                }
            } catch (RuntimeException | LinkageError noManagement) {
                // no java.management: the stack alone
            }
            StringBuilder text = new StringBuilder("\"").append(thread.getName()).append("\" ").append(thread.getState());
            for (StackTraceElement frame : thread.getStackTrace()) {
                text.append("\n\tat ").append(frame);
            }
            return text.toString();
        }

        /** A thread as {@code jcmd Thread.print} shows it: every frame, the monitors each frame locked. */
        private static void dump(java.lang.management.ThreadInfo info, StringBuilder text) {
            text.append('"').append(info.getThreadName()).append("\" #").append(info.getThreadId()).append(' ')
                    .append(info.getThreadState());
            if (info.getLockName() != null) {
                text.append(" on ").append(info.getLockName());
            }
            if (info.getLockOwnerName() != null) {
                text.append(" owned by \"").append(info.getLockOwnerName()).append("\" #").append(info.getLockOwnerId());
            }
            StackTraceElement[] stack = info.getStackTrace();
            for (int i = 0; i < stack.length; i++) {
                text.append("\n\tat ").append(stack[i]);
                for (java.lang.management.MonitorInfo monitor : info.getLockedMonitors()) {
                    if (monitor.getLockedStackDepth() == i) {
                        text.append("\n\t- locked ").append(monitor);
                    }
                }
            }
            for (java.lang.management.LockInfo lock : info.getLockedSynchronizers()) {
                text.append("\n\t- holds ").append(lock);
            }
        }

        /** Makes the message and logs it on a thread of its own, not the timer's (see {@link #watchStall}). */
        private static void report(System.Logger.Level level, java.util.function.Supplier<String> message) {
            Supervisor.runtimeThreads().name("forkless-stall-report").start(() ->
                    System.getLogger("forkless").log(level, message.get()));
        }

        @Override
        public void shutdown() {
            timer.shutdownNow();
            blocking.shutdown();
            mailbox.shutdown();
        }
    }
}
