package dev.forkless.runtime.admin;

import dev.forkless.runtime.WorkerSnapshot;

/**
 * One copy in {@code GET /api/workers}.
 *
 * @param id                the copy's id ({@code -} for an errored slot with no copy)
 * @param slot              its slot
 * @param mode              {@code isolate} or {@code process}
 * @param pid               the process that runs it (the runtime's own for an isolate)
 * @param state             starting, standby, ready, draining, stopped or errored
 * @param uptimeMs          time since it started
 * @param restarts          restarts of its slot
 * @param requests          requests it served
 * @param activeConnections its open connections
 * @param cpuMs             CPU time of its process; {@code null} for an isolate (see docs/operations.md)
 * @param memoryBytes       resident memory of its process; {@code null} for an isolate
 * @param lastExit          how the previous copy of its slot ended, or {@code null}
 */
record WorkerJson(String id, String slot, String mode, long pid, String state, long uptimeMs, int restarts,
                  long requests, int activeConnections, Long cpuMs, Long memoryBytes, String lastExit) {

    static WorkerJson of(WorkerSnapshot w, CopyResources resources) {
        var cpu = resources.cpuMs(w.pid());
        var memory = resources.memoryBytes(w.pid());
        return new WorkerJson(w.id(), w.slot(), w.mode(), w.pid(), w.state().toString(), w.uptime().toMillis(),
                w.restarts(), w.requests(), w.activeConnections(),
                cpu.isPresent() ? cpu.getAsLong() : null,
                memory.isPresent() ? memory.getAsLong() : null,
                w.lastExit().orElse(null));
    }
}
