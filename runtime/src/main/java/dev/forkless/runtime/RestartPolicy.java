package dev.forkless.runtime;

import io.github.resilience4j.core.IntervalFunction;

import java.time.Duration;
import java.util.Objects;

/**
 * How the supervisor restarts copies: data, read by the supervisor, as an Erlang/OTP child spec. The
 * defaults are PM2's.
 *
 * @param initialDelay      delay before the first restart of a slot (PM2: 100 ms)
 * @param multiplier        each further restart of the same slot waits this much longer (PM2: 1.5)
 * @param maxDelay          the longest delay (PM2: 15 s)
 * @param resetAfter        a copy that served this long resets its slot's back-off (PM2: 30 s)
 * @param minUptime         a copy that dies sooner than this is an unstable restart (PM2: 1 s)
 * @param maxRestarts       more unstable restarts in a row than this mark the slot errored (PM2: 16)
 * @param drainTimeout      how long a stopping copy's open connections get to finish (5 s)
 * @param unloadGrace       how long an unloading copy's shutdown hooks and threads get to end ({@code --kill-timeout}, 5 s)
 * @param autorestart       whether a copy that ended is replaced at all (PM2's {@code autorestart}: true); off,
 *                          its slot stays {@code stopped}
 * @param stopExitCodes     exit statuses after which a copy is not replaced: its slot stays {@code stopped}
 *                          (PM2's {@code stop_exit_codes}; none)
 */
public record RestartPolicy(Duration initialDelay, double multiplier, Duration maxDelay, Duration resetAfter,
                            Duration minUptime, int maxRestarts, Duration drainTimeout, Duration unloadGrace,
                            boolean autorestart, java.util.Set<Integer> stopExitCodes) {

    /** Each further restart of a slot waits this much longer by default (PM2's). */
    public static final double DEFAULT_MULTIPLIER = 1.5;

    /** PM2's defaults, and a 5 s drain. */
    public static final RestartPolicy DEFAULT = new RestartPolicy(Duration.ofMillis(100), DEFAULT_MULTIPLIER, Duration.ofSeconds(15),
            Duration.ofSeconds(30), Duration.ofSeconds(1), 16, Duration.ofSeconds(5), Duration.ofSeconds(5), true,
            java.util.Set.of());

    /** A policy that replaces every copy that ends (as before {@code autorestart} and {@code stopExitCodes}). */
    public RestartPolicy(Duration initialDelay, double multiplier, Duration maxDelay, Duration resetAfter,
                         Duration minUptime, int maxRestarts, Duration drainTimeout, Duration unloadGrace) {
        this(initialDelay, multiplier, maxDelay, resetAfter, minUptime, maxRestarts, drainTimeout, unloadGrace, true,
                java.util.Set.of());
    }

    public RestartPolicy {
        Objects.requireNonNull(initialDelay, "initialDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Objects.requireNonNull(resetAfter, "resetAfter");
        Objects.requireNonNull(minUptime, "minUptime");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(unloadGrace, "unloadGrace");
        if (initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0) {
            throw new IllegalArgumentException("need 0 <= initialDelay <= maxDelay");
        }
        if (multiplier < 1.0) {
            throw new IllegalArgumentException("multiplier must be at least 1");
        }
        if (maxRestarts < 0) {
            throw new IllegalArgumentException("maxRestarts must not be negative");
        }
        if (drainTimeout.isNegative() || unloadGrace.isNegative()) {
            throw new IllegalArgumentException("timeouts must not be negative");
        }
        stopExitCodes = java.util.Set.copyOf(stopExitCodes);
        for (int code : stopExitCodes) {
            if (code < 0 || code > 255) {
                throw new IllegalArgumentException("stop exit codes must be between 0 and 255, not " + code);
            }
        }
    }

    /**
     * Whether the copy that ended is replaced: not when {@link #autorestart} is off, nor when it exited
     * with one of the {@link #stopExitCodes}.
     *
     * @param exitStatus its exit status; null when it crashed or could not start
     * @return whether to restart it
     */
    public boolean restarts(Integer exitStatus) {
        return autorestart && (exitStatus == null || !stopExitCodes.contains(exitStatus));
    }

    /** @param autorestart whether ended copies are replaced @return a copy with it */
    public RestartPolicy withAutorestart(boolean autorestart) {
        return new RestartPolicy(initialDelay, multiplier, maxDelay, resetAfter, minUptime, maxRestarts,
                drainTimeout, unloadGrace, autorestart, stopExitCodes);
    }

    /** @param codes exit statuses after which a copy is not replaced, 0 to 255 @return a copy with them */
    public RestartPolicy withStopExitCodes(java.util.Set<Integer> codes) {
        return new RestartPolicy(initialDelay, multiplier, maxDelay, resetAfter, minUptime, maxRestarts,
                drainTimeout, unloadGrace, autorestart, codes);
    }

    /**
     * A fixed delay before every restart of a slot instead of the exponential back-off (PM2's
     * {@code restart_delay}).
     *
     * @param delay the delay
     * @return a copy whose back-off waits {@code delay} every time
     */
    public RestartPolicy withFixedDelay(Duration delay) {
        return withBackoff(delay, 1.0, delay);
    }

    /** @return whether every restart waits the same, {@link #initialDelay} ({@link #withFixedDelay}) */
    public boolean fixedDelay() {
        return multiplier == 1.0 || initialDelay.equals(maxDelay);
    }

    /** @param drainTimeout the drain timeout @return a copy with it */
    public RestartPolicy withDrainTimeout(Duration drainTimeout) {
        return new RestartPolicy(initialDelay, multiplier, maxDelay, resetAfter, minUptime, maxRestarts,
                drainTimeout, unloadGrace, autorestart, stopExitCodes);
    }

    /** @param unloadGrace how long an unloading copy's shutdown hooks and threads get @return a copy with it */
    public RestartPolicy withUnloadGrace(Duration unloadGrace) {
        return new RestartPolicy(initialDelay, multiplier, maxDelay, resetAfter, minUptime, maxRestarts,
                drainTimeout, unloadGrace, autorestart, stopExitCodes);
    }

    /** @param minUptime the minimum uptime @param maxRestarts the restart limit @return a copy with them */
    public RestartPolicy withCrashLoopGuard(Duration minUptime, int maxRestarts) {
        return new RestartPolicy(initialDelay, multiplier, maxDelay, resetAfter, minUptime, maxRestarts,
                drainTimeout, unloadGrace, autorestart, stopExitCodes);
    }

    /** @param initial first delay @param multiplier growth @param max cap @return a copy with that back-off */
    public RestartPolicy withBackoff(Duration initial, double multiplier, Duration max) {
        return new RestartPolicy(initial, multiplier, max, resetAfter, minUptime, maxRestarts, drainTimeout,
                unloadGrace, autorestart, stopExitCodes);
    }

    /**
     * @param initial first delay
     * @param max     cap
     * @return a copy with that back-off, growing by this policy's {@link #multiplier()}
     */
    public RestartPolicy withBackoff(Duration initial, Duration max) {
        return withBackoff(initial, multiplier, max);
    }

    /**
     * @param attempt restarts of a slot since its back-off last reset, from 1
     * @return how long restart {@code attempt} waits
     */
    public Duration delayBefore(int attempt) {
        return Duration.ofMillis(backoff().apply(attempt));
    }

    /** @return the back-off as resilience4j's interval function: attempt 1 waits {@link #initialDelay} */
    IntervalFunction backoff() {
        if (initialDelay.isZero()) {
            return attempt -> 0L;
        }
        return IntervalFunction.ofExponentialBackoff(initialDelay, multiplier, maxDelay);
    }
}
