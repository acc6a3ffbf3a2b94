package dev.forkless.runtime.meter;

import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** When the leak profiler runs: the schedule's decisions, without a JVM's GC or JFR. */
class LeakWindowsTest {

    private static final long MB = 1L << 20;
    private static final LeakWindows SCHEDULE = LeakWindows.DEFAULT;
    private static final Optional<Duration> NEVER = Optional.empty();

    private static Optional<Duration> seconds(long s) {
        return Optional.of(Duration.ofSeconds(s));
    }

    @Test
    void theFirstWindowOpensAMinuteAfterMeteringBegan() {
        assertEquals(Optional.empty(), SCHEDULE.opens(NEVER, Duration.ofSeconds(59), 100 * MB, 100 * MB, false));
        assertEquals(Optional.of(Duration.ofSeconds(10)),
                SCHEDULE.opens(NEVER, Duration.ofSeconds(60), 100 * MB, 100 * MB, false));
    }

    @Test
    void aSteadyHeapIsSampledEveryFifteenMinutesOnly() {
        assertEquals(Optional.empty(), SCHEDULE.opens(seconds(899), Duration.ofHours(1), 100 * MB, 100 * MB, false));
        assertEquals(Optional.of(Duration.ofSeconds(10)),
                SCHEDULE.opens(seconds(900), Duration.ofHours(1), 100 * MB, 100 * MB, false));
    }

    @Test
    void aGrowingHeapOpensAWindowAfterTheGap() {
        long grown = 100 * MB + 16 * MB;
        assertEquals(Optional.of(Duration.ofSeconds(10)), SCHEDULE.opens(seconds(30), Duration.ofHours(1), grown, 100 * MB, false));
        assertEquals(Optional.empty(), SCHEDULE.opens(seconds(29), Duration.ofHours(1), grown, 100 * MB, false),
                "not sooner than the gap after the last window");
        assertEquals(Optional.of(Duration.ofSeconds(10)), SCHEDULE.opens(NEVER, Duration.ofSeconds(30), grown, 100 * MB, false),
                "before the first window, the gap counts from when metering began");
    }

    @Test
    void growthMustBeBothAShareAndAnAmount() {
        // 15 MB more is not enough on a small heap (16 MB at least) ...
        assertEquals(Optional.empty(), SCHEDULE.opens(seconds(60), Duration.ofHours(1), 115 * MB, 100 * MB, false));
        // ... and 16 MB is not enough on a large one (10% of 1 GB)
        assertEquals(Optional.empty(), SCHEDULE.opens(seconds(60), Duration.ofHours(1), 1040 * MB, 1024 * MB, false));
        assertEquals(Optional.of(Duration.ofSeconds(10)),
                SCHEDULE.opens(seconds(60), Duration.ofHours(1), 1127 * MB, 1024 * MB, false));
        // a heap that shrank, or that no GC has measured yet, opens nothing
        assertEquals(Optional.empty(), SCHEDULE.opens(seconds(60), Duration.ofHours(1), 50 * MB, 100 * MB, false));
        assertEquals(Optional.empty(), SCHEDULE.opens(seconds(60), Duration.ofHours(1), -1, -1, false));
    }

    @Test
    void theMemoryGuardGetsAShortWindowAtOnce() {
        assertEquals(Optional.of(Duration.ofSeconds(1)), SCHEDULE.opens(seconds(1), Duration.ofSeconds(2), 100 * MB, 100 * MB, true));
        assertEquals(Duration.ofSeconds(1), SCHEDULE.shortenedForGuard(Duration.ofSeconds(8)),
                "an open window closes within the guard's wait");
        assertEquals(Duration.ofMillis(300), SCHEDULE.shortenedForGuard(Duration.ofMillis(300)));
    }

    @Test
    void aWindowLastsAWhile() {
        assertThrows(IllegalArgumentException.class, () -> new LeakWindows(Duration.ofMinutes(1), Duration.ZERO,
                Duration.ofSeconds(3), Duration.ofMinutes(5), Duration.ofSeconds(30), 0.1, MB));
    }
}
