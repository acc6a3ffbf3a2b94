package dev.forkless.runtime.meter;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * When JFR's leak profiler ({@code jdk.OldObjectSample}, with the allocating stacks that tell which copy
 * keeps what) runs: in windows, not all the time. Kept on, it costs an app that allocates much a quarter of
 * its throughput (Javalin on Jetty, one copy: 20,600 req/s with it, 28,200 without; docs/benchmarks.md). A
 * window samples the allocations made while it is open; when it closes, the samples still alive say which
 * copies keep what they allocated: a copy that leaks keeps nearly all of its own.
 *
 * <p>The first window opens {@link #first} after metering begins; then one opens {@link #every} so often; sooner, {@link #gap} after the last one at the earliest, when
 * the heap after GC has grown by {@link #growth} (a share) and {@link #growthBytes} since the last one
 * closed (a leak makes it grow, so that a leaking copy stands out within a minute); and at once, for
 * {@link #asked}, when the memory guard asks (it wants a read taken after the heap passed its limit).
 *
 * @param first       when the first window opens, after metering begins
 * @param window      how long a window lasts
 * @param asked       how long a window asked for by the memory guard lasts (it waits for the read)
 * @param every       a window opens at least this often
 * @param gap         the least time from one window's end to the next opening for growth
 * @param growth      the growth of the heap after GC, as a share of what it was, that opens a window
 * @param growthBytes the least growth in bytes that opens a window
 */
record LeakWindows(Duration first, Duration window, Duration asked, Duration every, Duration gap, double growth, long growthBytes) {

    /**
     * The runtime's schedule: 10 s windows, the first after a minute, then every 15 minutes or after 10% and
     * 16 MB of growth (a window costs an app that allocates much a third of its throughput while it is open:
     * 10 s in 15 minutes is about 0.4% averaged, where every 5 minutes was about 1%; a leak opens windows
     * through the growth, 30 s apart at most, whatever the period); 1 s for the memory guard (a leak of 80 MB/s, which CI has seen, fills a 1 GB heap
     * in 10 s: the guard's read must come within a few seconds).
     */
    static final LeakWindows DEFAULT = new LeakWindows(Duration.ofMinutes(1), Duration.ofSeconds(10), Duration.ofSeconds(1),
            Duration.ofMinutes(15), Duration.ofSeconds(30), 0.10, 16L << 20);

    LeakWindows {
        Objects.requireNonNull(first, "first");
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(asked, "asked");
        Objects.requireNonNull(every, "every");
        Objects.requireNonNull(gap, "gap");
        if (window.isNegative() || window.isZero() || asked.isNegative() || asked.isZero()) {
            throw new IllegalArgumentException("a window lasts a while");
        }
    }

    /**
     * Whether a window opens now, while none is open.
     *
     * @param sinceLastEnd    time since the last window closed, or empty before the first
     * @param sinceBegun      time since metering began
     * @param heapAfterGc     the heap after the last GC, or -1 before the first
     * @param heapAtLastEnd   the heap after GC when the last window closed, or -1
     * @param askedByGuard    whether the memory guard asked for a read
     * @return how long the window lasts, or empty when none opens
     */
    Optional<Duration> opens(Optional<Duration> sinceLastEnd, Duration sinceBegun, long heapAfterGc, long heapAtLastEnd,
                             boolean askedByGuard) {
        if (askedByGuard) {
            return Optional.of(asked);
        }
        if (sinceLastEnd.isEmpty() ? sinceBegun.compareTo(first) >= 0 : sinceLastEnd.get().compareTo(every) >= 0) {
            return Optional.of(window);
        }
        boolean grew = heapAfterGc >= 0 && heapAtLastEnd >= 0
                && heapAfterGc - heapAtLastEnd >= Math.max(growthBytes, (long) (heapAtLastEnd * growth));
        Duration quiet = sinceLastEnd.orElse(sinceBegun);
        return grew && quiet.compareTo(gap) >= 0 ? Optional.of(window) : Optional.empty();
    }

    /**
     * When an open window closes, given that the guard asked for a read meanwhile: no later than
     * {@link #asked} from now.
     *
     * @param remaining what is left of the open window
     * @return what is left of it now
     */
    Duration shortenedForGuard(Duration remaining) {
        return remaining.compareTo(asked) > 0 ? asked : remaining;
    }
}
