package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.CronSchedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The timer behind --cron-restart, on the real clock: once per named second, never twice, and not after close. */
class CronRestartTest {

    @Test
    void itReloadsAtEachNamedSecondOnceAndStopsWhenClosed() {
        List<Instant> reloads = new CopyOnWriteArrayList<>();
        Clock clock = Clock.systemDefaultZone();
        Instant start = clock.instant();
        try (CronRestart cron = new CronRestart(CronSchedule.parse("* * * * * *"), clock, () -> reloads.add(clock.instant()))) {
            await().atMost(Duration.ofSeconds(20)).until(() -> reloads.size() >= 3);
        }
        Instant closed = clock.instant();
        List<Instant> seen = List.copyOf(reloads);
        // the seconds named in [start, closed] bound the reloads: a timer that fired twice for one would exceed it
        long named = closed.getEpochSecond() - start.getEpochSecond() + 1;
        assertTrue(seen.size() <= named, seen.size() + " reloads in " + named + " named seconds: " + seen);
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> true);
        assertEquals(seen.size(), reloads.size(), "none after close");
    }
}
