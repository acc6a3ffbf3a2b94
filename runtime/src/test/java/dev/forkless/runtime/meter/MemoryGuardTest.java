package dev.forkless.runtime.meter;

import dev.forkless.runtime.CopyUsage;
import dev.forkless.runtime.Mode;
import dev.forkless.runtime.WorkerSnapshot;
import dev.forkless.runtime.WorkerState;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which isolate the memory guard replaces, from the meter's figures. */
class MemoryGuardTest {

    private static WorkerSnapshot copy(String id) {
        return new WorkerSnapshot(id, id, Optional.of(Mode.ISOLATE), 1, WorkerState.READY, Duration.ofSeconds(5), 0, 0, 0,
                Optional.empty());
    }

    private static CopyUsage usage(double allocatedPerSecond, double keptShare) {
        return new CopyUsage(0, 0, 0, allocatedPerSecond, 0, 0, keptShare, 0);
    }

    private static final List<WorkerSnapshot> TWO = List.of(copy("1"), copy("2"));

    private static String chosen(boolean fresh, Map<String, CopyUsage> usage, Map<String, Long> allocatedLately) {
        return MemoryGuard.choose(fresh, TWO, id -> Optional.ofNullable(usage.get(id)),
                id -> allocatedLately.getOrDefault(id, 0L)).orElseThrow().id();
    }

    @Test
    void withoutAFreshEstimateACopyTheLastOneSinglesOutGoesNotTheOneServingALoad() {
        // copy 1 leaks (half the live samples are its), copy 2 serves a load and allocates faster
        Map<String, CopyUsage> usage = Map.of("1", usage(80e6, 0.5), "2", usage(200e6, 0.1));
        assertEquals("1", chosen(false, usage, Map.of("1", 80_000_000L, "2", 200_000_000L)));
    }

    @Test
    void withoutAFreshEstimateAndNoCopyStandingOutTheOneAllocatingTheMostGoes() {
        Map<String, CopyUsage> usage = Map.of("1", usage(80e6, 0.2), "2", usage(200e6, 0.15));
        assertEquals("2", chosen(false, usage, Map.of("1", 80_000_000L, "2", 200_000_000L)));
    }

    @Test
    void aFreshEstimateDecides() {
        Map<String, CopyUsage> usage = Map.of("1", usage(80e6, 0.2), "2", usage(200e6, 0.15));
        assertEquals("1", chosen(true, usage, Map.of("1", 80_000_000L, "2", 200_000_000L)));
    }
}
