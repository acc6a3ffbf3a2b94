package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.RestartPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * A place for one copy, serving ({@code 1..n}) or standby ({@code s1..}), and its restart history: it
 * outlives its copies. Immutable; the supervisor's decisions about a slot are the pure functions here,
 * its effects (starting and draining copies) are the supervisor's.
 *
 * @param name           {@code 1..n} or {@code s1..}
 * @param standby        a standby slot: its copy is warm but does not accept
 * @param generation     changes whenever what is scheduled for the slot changes: a restart scheduled
 *                       for another generation is stale and does nothing
 * @param restarts       restarts so far (after a failure, and replacements on request, as PM2 counts)
 * @param unstable       unstable restarts in a row (copies that ended sooner than the minimum uptime)
 * @param backoffAttempt restarts since the back-off last reset
 * @param errored        failed too often in a row: no longer restarted
 * @param stopped        its copy ended as the policy lets a copy end for good ({@code autorestart} off, or
 *                       one of the {@code stopExitCodes}): no longer restarted
 * @param lastExit       how the last copy ended, or {@code null}
 */
record Slot(String name, boolean standby, long generation, int restarts, int unstable, int backoffAttempt,
            boolean errored, boolean stopped, String lastExit) {

    /** What follows when a slot's copy ended. */
    enum Next {
        /** Too many unstable restarts in a row: the slot is errored. */
        GIVE_UP,
        /** The copy ended for good, as the policy says: the slot stays stopped, no standby takes it. */
        STAY_STOPPED,
        /** A ready standby takes over the slot at once. */
        PROMOTE_STANDBY,
        /** A new copy starts after the back-off. */
        RESTART_AFTER_BACKOFF
    }

    static Slot serving(String name, long generation) {
        return new Slot(name, false, generation, 0, 0, 0, false, false, null);
    }

    static Slot standby(String name, long generation) {
        return new Slot(name, true, generation, 0, 0, 0, false, false, null);
    }

    /**
     * Its copy ended (or could not start) after serving for {@code uptime}: a copy that served longer than
     * {@link RestartPolicy#resetAfter()} resets the back-off; one that ended sooner than
     * {@link RestartPolicy#minUptime()} is an unstable restart, and more of those in a row than
     * {@link RestartPolicy#maxRestarts()} mark the slot errored. A copy the policy does not restart
     * ({@link RestartPolicy#restarts}) leaves the slot stopped.
     *
     * @param exitStatus the copy's exit status; null when it crashed or could not start
     */
    Slot ended(Duration uptime, String reason, Integer exitStatus, RestartPolicy policy) {
        if (!policy.restarts(exitStatus)) {
            return new Slot(name, standby, generation, restarts, unstable, backoffAttempt, errored, true, reason);
        }
        int attempt = uptime.compareTo(policy.resetAfter()) >= 0 ? 0 : backoffAttempt;
        int unstableNow = uptime.compareTo(policy.minUptime()) < 0 ? unstable + 1 : 0;
        return new Slot(name, standby, generation, restarts + 1, unstableNow, attempt,
                unstableNow > policy.maxRestarts(), false, reason);
    }

    /**
     * The slot's instance number ({@code FORKLESS_INSTANCE}): serving slots are named {@code 1..n} and
     * stay so (a scale adds the next names and retires the highest), so slot {@code k} is instance
     * {@code k-1}, kept by every copy that serves it. A standby slot has none: its copy takes the number
     * of the slot it is promoted to.
     *
     * @return {@code 0..n-1}, or empty for a standby slot
     */
    OptionalInt instance() {
        return standby ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(name) - 1);
    }

    /** @return whether the slot runs no copy for good: errored or stopped */
    boolean done() {
        return errored || stopped;
    }

    /** @return what follows after {@link #ended}: a serving slot takes a ready standby before it restarts */
    Next next(boolean aStandbyIsReady) {
        if (errored) {
            return Next.GIVE_UP;
        }
        if (stopped) {
            return Next.STAY_STOPPED;
        }
        return !standby && aStandbyIsReady ? Next.PROMOTE_STANDBY : Next.RESTART_AFTER_BACKOFF;
    }

    /** @return the slot with one more back-off attempt, in {@code generation} */
    Slot restartScheduled(long generation) {
        return new Slot(name, standby, generation, restarts, unstable, backoffAttempt + 1, errored, stopped, lastExit);
    }

    /** @return how long the restart after {@link #restartScheduled} waits */
    Duration backoff(RestartPolicy policy) {
        return policy.delayBefore(backoffAttempt);
    }

    /**
     * A copy started on request (reload, restart) took the slot over; a pending restart is stale now.
     *
     * @param hadCopy whether it replaced a copy: that counts as a restart of the slot, as in PM2
     */
    Slot replaced(boolean hadCopy, long generation) {
        return new Slot(name, standby, generation, hadCopy ? restarts + 1 : restarts, 0, backoffAttempt, errored,
                stopped, lastExit);
    }

    /** @return the slot in a new generation: whatever was scheduled for it is stale */
    Slot retired(long generation) {
        return new Slot(name, standby, generation, restarts, unstable, backoffAttempt, errored, stopped, lastExit);
    }

    Slot withLastExit(String reason) {
        return new Slot(name, standby, generation, restarts, unstable, backoffAttempt, errored, stopped, reason);
    }

    /** @return the names of the serving slots to add to reach {@code n}: after the highest name in use */
    static List<String> toAdd(List<Slot> serving, int n) {
        int next = serving.stream().mapToInt(s -> Integer.parseInt(s.name())).max().orElse(0);
        List<String> names = new ArrayList<>();
        for (int size = serving.size(); size < n; size++) {
            names.add(String.valueOf(++next));
        }
        return names;
    }

    /** @return the serving slots to retire to come down to {@code n}: the newest first */
    static List<Slot> toRetire(List<Slot> serving, int n) {
        List<Slot> retire = new ArrayList<>();
        for (int i = serving.size() - 1; i >= n; i--) {
            retire.add(serving.get(i));
        }
        return retire;
    }
}
