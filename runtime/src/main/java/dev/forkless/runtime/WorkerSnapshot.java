package dev.forkless.runtime;

import java.time.Duration;
import java.util.Optional;

/**
 * An immutable view of one copy at one moment.
 *
 * @param id                 the copy's id, unique for the life of the runtime
 * @param slot               its slot ({@code 1..n} for serving slots, {@code s1..} for standbys)
 * @param mode               how it runs; empty for a slot with no copy (stopped or errored), whose id is {@code -}
 * @param pid                the process that runs it (the runtime's own in isolate mode)
 * @param state              its state
 * @param uptime             time since it started
 * @param restarts           restarts of its slot so far
 * @param requests           requests it served
 * @param activeConnections  its open connections
 * @param lastExit           how the previous copy of its slot ended, if one did
 */
public record WorkerSnapshot(String id, String slot, Optional<Mode> mode, long pid, WorkerState state, Duration uptime,
                             int restarts, long requests, int activeConnections, Optional<String> lastExit) {
}
