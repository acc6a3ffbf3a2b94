package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.WorkerState;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * Everything the supervisor knows of one copy, in one place: the slot it belongs to, where it is in its
 * life, and when things happened. Immutable; the supervisor replaces it as the copy moves on.
 *
 * @param copy        the copy
 * @param slot        its slot's name
 * @param incoming    started by a reload or restart and not yet in its slot (the slot's copy still
 *                    serves); not shown in snapshots
 * @param state       {@link WorkerState#STARTING}, {@link WorkerState#READY}, {@link WorkerState#STANDBY}
 *                    or {@link WorkerState#DRAINING}
 * @param startedAt   when it was created
 * @param activeSince when it began to serve its slot, or {@code null}
 * @param drainSince  when it began to drain, or {@code null}
 * @param ready       completes once it is ready; fails when it ends or cannot start first
 */
record CopyRecord(Copy copy, String slot, boolean incoming, WorkerState state, Instant startedAt,
                  Instant activeSince, Instant drainSince, CompletableFuture<Void> ready) {

    static CopyRecord starting(Copy copy, String slot, boolean incoming, Instant now) {
        return new CopyRecord(copy, slot, incoming, WorkerState.STARTING, now, null, null, new CompletableFuture<>());
    }

    /** @return whether it holds its slot (starting, serving or standby), not incoming nor draining */
    boolean holds(String slotName) {
        return !incoming && state != WorkerState.DRAINING && slot.equals(slotName);
    }

    CopyRecord readyIn(WorkerState state, Instant activeSince) {
        return new CopyRecord(copy, slot, incoming, state, startedAt, activeSince, drainSince, ready);
    }

    /** @return it, now holding {@code slotName} in {@code state} */
    CopyRecord placed(String slotName, WorkerState state, Instant now) {
        return new CopyRecord(copy, slotName, false, state, startedAt, now, drainSince, ready);
    }

    CopyRecord draining(Instant now) {
        return new CopyRecord(copy, slot, false, WorkerState.DRAINING, startedAt, activeSince, now, ready);
    }
}
