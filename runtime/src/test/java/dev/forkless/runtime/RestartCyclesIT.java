package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 200 crash/restart cycles of the demo in one runtime (this JVM): loaded classes, metaspace and heap
 * after GC stay bounded, so nothing of an unloaded copy is left behind.
 */
class RestartCyclesIT {

    private static final int CYCLES = 200;
    /** Measured after this many cycles, once the JVM's own caches have warmed up. */
    private static final int BASELINE_AFTER = 20;
    /** About two copies' worth of Helidon classes (one copy loads ~2,600): more would be a leak. */
    private static final long CLASS_BOUND = 6_000;
    private static final long METASPACE_BOUND = 48L << 20;
    private static final long HEAP_BOUND = 64L << 20;
    private static final Duration POLL = Duration.ofMillis(10);

    @org.junit.jupiter.api.BeforeAll
    static void letCrashesReachTheRuntime() {
        // Awaitility would otherwise replace the JVM's default uncaught-exception handler while it waits,
        // and the copies' crashes would never reach the runtime's dispatcher
        org.awaitility.Awaitility.doNotCatchUncaughtExceptionsByDefault();
    }

    @Test
    void twoHundredCrashRestartCyclesLeaveNothingBehind() throws Exception {
        AtomicInteger unloaded = new AtomicInteger();
        AtomicInteger ready = new AtomicInteger();
        RestartPolicy fast = RestartPolicy.DEFAULT.withBackoff(Duration.ZERO, 1.0, Duration.ZERO)
                .withCrashLoopGuard(Duration.ZERO, 1_000_000);
        try (Forkless forkless = Forkless.builder()
                .app(RuntimeProcess.demoJar())
                .args(List.of("--port", "0", "--host", "127.0.0.1"))
                .copies(1)
                .standby(0)
                .restartPolicy(fast)
                .listener(e -> {
                    if (e instanceof ForklessEvent.Unloaded) {
                        unloaded.incrementAndGet();
                    } else if (e instanceof ForklessEvent.Ready) {
                        ready.incrementAndGet();
                    }
                })
                .build()
                .start()) {
            InetSocketAddress address = forkless.addresses().getFirst();
            long[] baseline = null;
            for (int cycle = 1; cycle <= CYCLES; cycle++) {
                int target = cycle;
                // polled at once and often: Awaitility's default first delay and interval (100 ms each) cost
                // ~0.25 s a cycle, ~50 s of the 200 cycles
                await().atMost(Duration.ofSeconds(10)).pollDelay(Duration.ZERO).pollInterval(POLL).ignoreExceptions()
                        .until(() -> Http.get(address, "/crash").status() == 202);
                await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(POLL)
                        .until(() -> unloaded.get() >= target && ready.get() >= target + 1);
                if (cycle == BASELINE_AFTER) {
                    baseline = measure();
                }
            }
            // what an unloaded copy leaves may take a moment to be let go of (a drain poll or a timer still
            // queued, a GC that has not yet unloaded the loader); a leak grows with the cycles and never drops
            long[] start = baseline;
            long[][] last = {null};
            try {
                await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(500))
                        .until(() -> {
                            long[] now = measure();
                            last[0] = now;
                            return now[0] - start[0] < CLASS_BOUND && now[1] - start[1] < METASPACE_BOUND
                                    && now[2] - start[2] < HEAP_BOUND;
                        });
            } catch (org.awaitility.core.ConditionTimeoutException stillHeld) {
                // the assertions below say what stayed
            }
            long[] end = last[0] == null ? measure() : last[0];
            String report = String.format("classes %d -> %d, metaspace %d -> %d MB, heap %d -> %d MB",
                    baseline[0], end[0], baseline[1] >> 20, end[1] >> 20, baseline[2] >> 20, end[2] >> 20);
            System.out.println("RestartCyclesIT: " + report);
            assertTrue(end[0] - baseline[0] < CLASS_BOUND, report);
            assertTrue(end[1] - baseline[1] < METASPACE_BOUND, report);
            assertTrue(end[2] - baseline[2] < HEAP_BOUND, report);
            assertEquals(200, Http.get(address, "/").status());
        }
    }

    /** @return loaded classes, metaspace used, heap used: after the collector had its chance */
    private static long[] measure() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        long metaspace = 0;
        long heap = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getName().equals("Metaspace")) {
                metaspace = pool.getUsage().getUsed();
            } else if (pool.getType() == MemoryType.HEAP) {
                heap += pool.getUsage().getUsed();
            }
        }
        return new long[] {ManagementFactory.getClassLoadingMXBean().getLoadedClassCount(), metaspace, heap};
    }
}
