package dev.forkless.runtime;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table of ranges on its own: parsing at and past the bounds, and past what Java's numbers hold. */
class LimitTest {

    private static String refused(Runnable parse) {
        return assertThrows(IllegalArgumentException.class, parse::run).getMessage();
    }

    @Test
    void durationsAtTheBoundsAreTakenPastThemRefused() {
        assertEquals(Duration.ofHours(1), Limit.DRAIN_TIMEOUT.parseDuration("--drain-timeout", "1h"));
        assertEquals(Duration.ZERO, Limit.DRAIN_TIMEOUT.parseDuration("--drain-timeout", "0"));
        assertEquals(Duration.ofDays(1), Limit.HANG_TIMEOUT.parseDuration("--hang-timeout", "1d"));
        assertEquals("--drain-timeout must be between 0 and 1h, not 3600001ms",
                refused(() -> Limit.DRAIN_TIMEOUT.parseDuration("--drain-timeout", "3600001ms")));
        assertEquals("--drain-timeout must be between 0 and 1h, not 9999999h",
                refused(() -> Limit.DRAIN_TIMEOUT.parseDuration("--drain-timeout", "9999999h")));
        // past a long's nanoseconds, past a long itself, and ISO durations past Duration's own range
        for (String huge : new String[] {"9223372036854775807ms", "99999999999999999999999999h", "PT9999999999999999H",
                "9223372036854775807d"}) {
            assertTrue(refused(() -> Limit.DRAIN_TIMEOUT.parseDuration("x", huge)).startsWith("x must be between 0 and 1h"), huge);
        }
        assertEquals("--ready-timeout must be between 1ms and 1h, not 0",
                refused(() -> Limit.READY_TIMEOUT.parseDuration("--ready-timeout", "0")));
        assertTrue(refused(() -> Limit.DRAIN_TIMEOUT.parseDuration("x", "soon")).contains("is not a duration"));
        assertTrue(refused(() -> Limit.DRAIN_TIMEOUT.parseDuration("x", "-5s")).contains("is not a duration"));
        assertTrue(refused(() -> Limit.DRAIN_TIMEOUT.parseDuration("x", "PT-5S")).contains("must be between"));
    }

    @Test
    void countsAndSizes() {
        assertEquals(1024, Limit.COPIES.parseCount("--isolates", "1024"));
        assertEquals("--isolates must be between 1 and 1024, not 1025", refused(() -> Limit.COPIES.parseCount("--isolates", "1025")));
        assertEquals("--isolates must be between 1 and 1024, not 99999999999999999999",
                refused(() -> Limit.COPIES.parseCount("--isolates", "99999999999999999999")));
        assertEquals("--standby takes a whole number, not '1.5'", refused(() -> Limit.STANDBY.parseCount("--standby", "1.5")));
        assertEquals(10L << 20, Limit.LOG_MAX_SIZE.parseSize("--log-max-size", "10MB"));
        assertEquals(1L << 40, Limit.LOG_MAX_SIZE.parseSize("--log-max-size", "1TB"));
        assertEquals("--log-max-size must be between 1KB and 1TB, not 9999999999999999G",
                refused(() -> Limit.LOG_MAX_SIZE.parseSize("--log-max-size", "9999999999999999G")));
        assertEquals("--log-max-size must be between 1KB and 1TB, not 1023",
                refused(() -> Limit.LOG_MAX_SIZE.parseSize("--log-max-size", "1023")));
        assertEquals("0 to 1h", Limit.DRAIN_TIMEOUT.range());
        assertEquals("1 to 1024", Limit.COPIES.range());
    }

    @Test
    void theLongestDurationsLeaveRoomForArithmetic() {
        for (Limit limit : Limit.values()) {
            if (limit.kind() == Limit.Kind.DURATION) {
                // deadlines are System.nanoTime() + timeout: far from overflowing
                assertTrue(Duration.ofMillis(limit.max()).toNanos() < Long.MAX_VALUE / 1000, limit.name());
            }
            assertTrue(limit.min() <= limit.max(), limit.name());
        }
        assertFalse(Limit.isDuration("soon"));
        assertTrue(Limit.isDuration("99999999999999999999999999h"), "written as a duration, out of range");
    }
}
