package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.CronSchedule;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code --cron-restart}: a rolling reload at each time the schedule names, in the clock's zone (the
 * machine's). One timer thread; each time it fires it asks for the reload (reloads that pile up coalesce,
 * {@link OperationQueue}) and sets itself for the next time after the one it fired for, or after now when
 * the machine slept past several: missed times are not made up.
 */
public final class CronRestart implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("forkless");

    private final CronSchedule schedule;
    private final Clock clock;
    private final Runnable reload;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Supervisor.runtimeThreads().name("forkless-cron").factory());

    /**
     * Starts the timer.
     *
     * @param schedule when
     * @param clock    what time it is, and in which zone the schedule is read
     * @param reload   asks for the reload
     */
    public CronRestart(CronSchedule schedule, Clock clock, Runnable reload) {
        this.schedule = schedule;
        this.clock = clock;
        this.reload = reload;
        arm(ZonedDateTime.now(clock));
    }

    /** Sets the timer for the first time the schedule names after {@code after}. */
    private void arm(ZonedDateTime after) {
        ZonedDateTime next;
        try {
            next = schedule.next(after);
        } catch (IllegalStateException never) {
            LOG.log(System.Logger.Level.WARNING, never.getMessage());
            return;
        }
        long delay = Math.max(0, Duration.between(ZonedDateTime.now(clock), next).toMillis());
        try {
            timer.schedule(() -> fire(next), delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closed meanwhile
        }
    }

    private void fire(ZonedDateTime due) {
        ZonedDateTime now = ZonedDateTime.now(clock);
        if (now.isBefore(due)) { // the timer's clock ran ahead of the wall clock: wait the rest
            arm(due.minusNanos(1));
            return;
        }
        try {
            reload.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the scheduled reload failed", e);
        }
        arm(now.isAfter(due.plusMinutes(1)) ? now : due);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            // a reload that was already firing has asked by the time close returns: none comes after it
            timer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
