package dev.forkless.runtime.admin;

import dev.forkless.runtime.Mode;
import dev.forkless.runtime.WorkerSnapshot;

/**
 * One copy in {@code GET /api/workers}.
 *
 * @param app               the app it is a copy of
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
 * @param cpuShare          an isolate's share of the runtime JVM's CPU over the last 10 s (0..1, JFR samples
 *                          by class loader); {@code null} for a process
 * @param cpuCores          that share times the JVM's CPU, in cores; {@code null} for a process
 * @param allocatedBytesPerSecond what an isolate's code allocated per second over the last 10 s
 * @param allocatedBytes    what it allocated since it started (JFR's sampled estimate)
 * @param classes           classes its class loader holds
 * @param metaspaceBytes    metaspace its class loader holds
 * @param keptHeapShare     share of the JVM's sampled live objects (JFR's leak profiler) that an isolate's code
 *                          allocated, 0..1; {@code null} for a process
 * @param keptHeapBytes     that share times the heap after the last GC: an estimate of the heap the isolate's
 *                          objects keep (never resident memory); {@code null} for a process
 */
record WorkerJson(String app, String id, String slot, String mode, long pid, String state, long uptimeMs, int restarts,
                  long requests, int activeConnections, Long cpuMs, Long memoryBytes, String lastExit,
                  Double cpuShare, Double cpuCores, Double allocatedBytesPerSecond, Long allocatedBytes,
                  Long classes, Long metaspaceBytes, Double keptHeapShare, Long keptHeapBytes) {

    static WorkerJson of(String app, WorkerSnapshot w, CopyResources resources,
                         java.util.Optional<dev.forkless.runtime.CopyUsage> usage) {
        var u = usage.orElse(null);
        var cpu = resources.cpuMs(w.pid());
        var memory = resources.memoryBytes(w.pid());
        return new WorkerJson(app, w.id(), w.slot(), w.mode().map(Mode::toString).orElse("-"), w.pid(), w.state().toString(), w.uptime().toMillis(),
                w.restarts(), w.requests(), w.activeConnections(),
                cpu.isPresent() ? cpu.getAsLong() : null,
                memory.isPresent() ? memory.getAsLong() : null,
                w.lastExit().orElse(null),
                u == null ? null : round(u.cpuShare()), u == null ? null : round(u.cpuCores()),
                u == null ? null : (double) Math.round(u.allocatedBytesPerSecond()), u == null ? null : u.allocatedBytes(),
                u == null ? null : u.classes(), u == null ? null : u.metaspaceBytes(),
                u == null ? null : round(u.keptHeapShare()), u == null ? null : u.keptHeapBytes());
    }

    private static double round(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }
}
