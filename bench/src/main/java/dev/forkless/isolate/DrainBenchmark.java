package dev.forkless.isolate;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the drain filter ({@code DrainFeature}) adds to every request: {@link Isolate#requestStarted()}
 * and {@link Isolate#requestFinished()} (a map of requests in flight, by thread, for the hang watchdog,
 * and a request counter), plus the two reads of {@link Isolate#isDraining()}. On one thread and on two
 * threads at once (every handler thread of a copy shares its isolate's map and counter).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xss1m", "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.logging/java.util.logging=ALL-UNNAMED"})
public class DrainBenchmark {

    private Isolate isolate;

    @Setup(Level.Trial)
    public void setUp() {
        isolate = BenchHost.isolate(new BenchHost());
    }

    @Benchmark
    @Threads(1)
    public boolean perRequest() {
        isolate.requestStarted();
        isolate.requestFinished();
        return isolate.isDraining() | isolate.isDraining();
    }

    @Benchmark
    @Threads(2)
    public boolean perRequestTwoThreads() {
        isolate.requestStarted();
        isolate.requestFinished();
        return isolate.isDraining() | isolate.isDraining();
    }
}
