package dev.forkless.runtime.cli;

import dev.forkless.runtime.Limit;

import java.time.Duration;

/**
 * Parses durations as users write them: {@code 5s}, {@code 500ms}, {@code 2m}, {@code 1h}, or ISO
 * {@code PT5S}, within a {@link Limit}.
 */
final class Durations {

    private Durations() {
    }

    /** A duration of an option without a limit of its own: 0 to a day. */
    static Duration parse(String text) {
        return Limit.HANG_TIMEOUT.parseDuration("the duration", text);
    }

    /** A duration within its option's limit. */
    static Duration parse(Limit limit, String option, String text) {
        return limit.parseDuration(option, text);
    }
}
