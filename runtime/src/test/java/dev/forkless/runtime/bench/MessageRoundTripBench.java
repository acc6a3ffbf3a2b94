package dev.forkless.runtime.bench;

import dev.forkless.runtime.Mode;
import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.testing.TestJars;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/**
 * Message round trip runtime -> copy -> runtime, isolate mode against process mode: one copy of an app
 * that echoes every message; the runtime sends one message, waits for its echo, sends the next. Not
 * part of the test run (no *Test or *IT name); run it with
 * {@code mvn verify -pl isolates,demo,runtime -Dtest=none -Dit.test=MessageRoundTripBench -Dsurefire.failIfNoSpecifiedTests=false}.
 * Figures in docs/benchmarks.md ("Messages").
 */
class MessageRoundTripBench {

    private static final int WARMUP = Integer.getInteger("bench.warmup", 20_000);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 50_000);
    /** How the sender waits for the echo: {@code park} (woken by the handler) or {@code spin}. */
    private static final boolean PARK = !"spin".equals(System.getProperty("bench.wait", "park"));

    @Test
    void roundTrip() throws Exception {
        org.awaitility.Awaitility.doNotCatchUncaughtExceptionsByDefault();
        Path jar = TestJars.testApp(Files.createTempFile("messaging", ".jar"), testapps.MessagingApp.class);
        StringBuilder report = new StringBuilder("\nMessage round trip runtime -> copy -> runtime (" + ROUNDS
                + " sequential round trips after " + WARMUP + " warm-up, 16-byte text, sender "
                + (PARK ? "parks" : "spins") + ", inbox spin " + Long.getLong("forkless.inbox.spinNanos", 0) / 1000 + " us, "
                + Runtime.getRuntime().availableProcessors() + " CPUs, Java " + Runtime.version() + ")\n");
        report.append(String.format("%-8s %10s %10s %10s %10s %12s%n", "mode", "mean us", "p50 us", "p99 us", "p99.9 us", "round trips/s"));
        for (Mode mode : List.of(Mode.ISOLATE, Mode.PROCESS)) {
            report.append(run(jar, mode));
        }
        System.out.println(report);
        Files.deleteIfExists(jar);
    }

    private static String run(Path jar, Mode mode) {
        AtomicLong echoes = new AtomicLong();
        Thread sender = Thread.currentThread();
        try (Forkless forkless = Forkless.builder()
                .app("testapps.MessagingApp", List.of(jar))
                .copies(1)
                .standby(0)
                .mode(mode)
                .onMessage((id, m) -> {
                    echoes.incrementAndGet();
                    if (PARK) {
                        java.util.concurrent.locks.LockSupport.unpark(sender);
                    }
                })
                .build()
                .start()) {
            String id = forkless.workers().getFirst().id();
            waitFor(echoes, 1); // its hello
            long expected = 1;
            Histogram histogram = new Histogram(60_000_000_000L, 3);
            long total = 0;
            for (int i = 0; i < WARMUP + ROUNDS; i++) {
                long start = System.nanoTime();
                forkless.send(id, "round trip 0001");
                waitFor(echoes, ++expected);
                long took = System.nanoTime() - start;
                if (i >= WARMUP) {
                    histogram.recordValue(took);
                    total += took;
                }
            }
            return String.format("%-8s %10.1f %10.1f %10.1f %10.1f %12.0f%n", mode,
                    histogram.getMean() / 1_000, histogram.getValueAtPercentile(50) / 1_000.0,
                    histogram.getValueAtPercentile(99) / 1_000.0, histogram.getValueAtPercentile(99.9) / 1_000.0,
                    ROUNDS / (total / 1e9));
        }
    }

    /** Parks until the handler unparks it, or spins, then yields: the reply comes on another thread. */
    private static void waitFor(AtomicLong counter, long value) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        int spins = 0;
        while (counter.get() < value) {
            if (PARK) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            } else if (++spins < 1_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no echo in 10 s");
            }
        }
    }
}
