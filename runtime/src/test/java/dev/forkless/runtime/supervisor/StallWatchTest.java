package dev.forkless.runtime.supervisor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mailbox's stall watch on the runtime's threads ({@link Scheduling.Threads}): a task that does not
 * finish is said once, with the mailbox thread's stack and the tasks waiting behind it, and so is the end of
 * the stall. A watch of 1 s instead of {@link Scheduling.Threads#STALL}.
 */
class StallWatchTest {

    /** Long enough that a busy machine's thread that runs late is not taken for a stall where none is meant. */
    private static final Duration STALL = Duration.ofSeconds(1);

    private final Logger logger = Logger.getLogger("forkless");
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Scheduling.Threads scheduling = new Scheduling.Threads(STALL);

    @BeforeEach
    void listen() {
        logger.addHandler(handler);
    }

    @AfterEach
    void stop() {
        scheduling.shutdown();
        logger.removeHandler(handler);
    }

    @Test
    void aMailboxTaskThatDoesNotFinishIsSaidOnceWithTheMailboxThreadsStackAndTheTasksWaiting() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch ranAfter = new CountDownLatch(1);
        // the task queues the two others itself, so they wait behind it however late each thread runs (a busy
        // machine may also start the mailbox's thread late: that is said as tasks waiting for a mailbox that
        // has begun none, another warning, which this test leaves aside)
        assertTrue(scheduling.post(() -> {
            scheduling.post(ranAfter::countDown);
            scheduling.post(() -> { });
            blockedUntilReleased(release);
        }));

        await().atMost(Duration.ofSeconds(30)).until(() -> !stuckTaskWarnings().isEmpty());
        String warning = stuckTaskWarnings().getFirst();
        assertTrue(warning.contains("2 task(s) waiting, the oldest for"), warning);
        assertTrue(warning.contains("\"forkless-supervisor\""), warning);
        assertTrue(warning.contains("StallWatchTest.blockedUntilReleased"), "the mailbox thread's stack: " + warning);

        // said once: the watch looks again several times while the task still runs
        await().during(STALL.multipliedBy(2)).atMost(Duration.ofSeconds(30)).until(() -> stuckTaskWarnings().size() == 1);

        release.countDown();
        assertTrue(ranAfter.await(30, java.util.concurrent.TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(30)).until(() -> records.stream()
                .anyMatch(r -> r.getLevel() == Level.INFO && r.getMessage().contains("went on after a stall of")));
        // the two tasks queued during the stall, taken one after the other once it ended, are no stall
        assertEquals(1, stuckTaskWarnings().size(), warnings().toString());
    }

    @Test
    void aMailboxBlockedOnALockShowsTheStackOfTheThreadThatHoldsIt() throws Exception {
        Object lock = new Object();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("lock-holder").start(() -> holdsTheLock(lock, held, release));
        assertTrue(held.await(30, java.util.concurrent.TimeUnit.SECONDS));
        CountDownLatch ran = new CountDownLatch(1);
        assertTrue(scheduling.post(() -> {
            synchronized (lock) {
                ran.countDown();
            }
        }));

        await().atMost(Duration.ofSeconds(30)).until(() -> !warnings().isEmpty());
        String warning = warnings().getFirst();
        assertTrue(warning.contains("\"forkless-supervisor\"") && warning.contains("BLOCKED"), warning);
        assertTrue(warning.contains("owned by \"lock-holder\""), warning);
        assertTrue(warning.contains("StallWatchTest.holdsTheLock"), "the holder's stack: " + warning);
        release.countDown();
        assertTrue(ran.await(30, java.util.concurrent.TimeUnit.SECONDS));
        holder.join();
    }

    @Test
    void aMailboxIsStuckSinceItsRunningTaskBeganOrSinceItLastWentOn() {
        long idle = Long.MIN_VALUE;
        // a running task: since it began, even when a task waiting behind it came earlier
        assertEquals(100, Scheduling.Threads.stuckSince(100, 50, 90L));
        // none running, none waiting: no stall
        assertEquals(idle, Scheduling.Threads.stuckSince(idle, 50, null));
        // none running, one waiting: since it came, or since the last task ended if that was later (a task
        // queued during a stall that has ended does not start another)
        assertEquals(80, Scheduling.Threads.stuckSince(idle, 50, 80L));
        assertEquals(50, Scheduling.Threads.stuckSince(idle, 50, 20L));
        // before the first task ended (the mailbox's thread began late)
        assertEquals(20, Scheduling.Threads.stuckSince(idle, idle, 20L));
    }

    @Test
    void anIdleMailboxIsNotAStall() throws Exception {
        CountDownLatch ran = new CountDownLatch(1);
        assertTrue(scheduling.post(ran::countDown));
        assertTrue(ran.await(30, java.util.concurrent.TimeUnit.SECONDS));
        await().during(STALL.multipliedBy(3)).atMost(Duration.ofSeconds(30)).until(() -> warnings().isEmpty());
    }

    /** Warnings about a task that has not finished (not about a mailbox thread that began late). */
    private List<String> stuckTaskWarnings() {
        return warnings().stream().filter(w -> w.contains("a task of the supervisor's mailbox has not finished for")).toList();
    }

    private List<String> warnings() {
        return records.stream().filter(r -> r.getLevel() == Level.WARNING).map(LogRecord::getMessage).toList();
    }

    private static void holdsTheLock(Object lock, CountDownLatch held, CountDownLatch release) {
        synchronized (lock) {
            held.countDown();
            blockedUntilReleased(release);
        }
    }

    private static void blockedUntilReleased(CountDownLatch release) {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
