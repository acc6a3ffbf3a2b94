package dev.forkless.runtime;

/**
 * What one isolate costs, as far as the JVM can attribute it (see docs/operations.md). None of it is
 * resident memory: an isolate shares the runtime's process and heap.
 *
 * @param cpuShare               share of the JVM's CPU samples, over the last 10 s, whose top-most app
 *                               frame is this copy's code (0..1; its virtual threads included)
 * @param cpuCores               that share times the CPU the runtime's JVM used meanwhile, in cores
 * @param allocatedBytes         bytes its code allocated since it started (JFR's sampled estimate)
 * @param allocatedBytesPerSecond the same over the last 10 s, per second
 * @param classes                classes its class loader defined and still holds
 * @param metaspaceBytes         metaspace its class loader holds (chunks reserved for its classes)
 * @param keptHeapShare          share of the JVM's sampled objects that are still alive (JFR's leak profiler,
 *                               up to 256 samples, read every 5 s) whose allocating code is this copy's (0..1)
 * @param keptHeapBytes          that share times the heap in use after the last GC: an estimate of the heap
 *                               its objects keep
 */
public record CopyUsage(double cpuShare, double cpuCores, long allocatedBytes, double allocatedBytesPerSecond,
                        long classes, long metaspaceBytes, double keptHeapShare, long keptHeapBytes) {
}
