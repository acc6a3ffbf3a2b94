package dev.forkless.runtime;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import jdk.jfr.consumer.RecordedClassLoader;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingStream;

/**
 * Meters what each isolate costs, from a JFR stream in the runtime's JVM: execution samples and
 * allocation samples are attributed to the isolate whose class loader defined the top-most frame of
 * app code in the sampled stack (so a JDK method called by the app counts for the app, and its virtual
 * threads count too: JFR samples the virtual thread mounted on a carrier); class-loader statistics give
 * each isolate's classes and metaspace. See docs/decisions.md (Metering isolates) for the cost.
 */
final class CopyMeter implements AutoCloseable {

    /** The isolate class loaders' names: {@code isolate-ID}. */
    private static final String LOADER_PREFIX = "isolate-";
    static final Duration SAMPLE_PERIOD = Duration.ofMillis(100);
    static final Duration WINDOW = Duration.ofSeconds(10);
    private static final long TICK_MS = 1000;

    private final RecordingStream stream = new RecordingStream();
    private final Map<String, Counters> copies = new ConcurrentHashMap<>();
    private final LongAdder allSamples = new LongAdder();
    private final Thread ticker;
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    /** Ticks of the last {@link #WINDOW}: guarded by {@code this}. */
    private final Deque<Tick> ticks = new ArrayDeque<>();
    private volatile Map<String, CopyUsage> usage = Map.of();

    CopyMeter() {
        stream.enable("jdk.ExecutionSample").withPeriod(SAMPLE_PERIOD).withStackTrace();
        stream.enable("jdk.ObjectAllocationSample").with("throttle", "50/s").withStackTrace();
        stream.enable("jdk.ClassLoaderStatistics").withPeriod(Duration.ofSeconds(5));
        stream.onEvent("jdk.ExecutionSample", this::executionSample);
        stream.onEvent("jdk.ObjectAllocationSample", this::allocationSample);
        stream.onEvent("jdk.ClassLoaderStatistics", this::loaderStatistics);
        stream.setMaxAge(Duration.ofSeconds(30));
        stream.startAsync();
        ticker = Supervisor.runtimeThreads().name("forkless-meter").start(this::tickLoop);
    }

    /** @return what the copy costs, once it has been metered for a tick */
    Optional<CopyUsage> usage(String copyId) {
        return Optional.ofNullable(usage.get(copyId));
    }

    /** @return every metered copy's usage, by id */
    Map<String, CopyUsage> usage() {
        return usage;
    }

    /** Starts metering a copy, so that one that never runs shows zero rather than nothing. */
    void track(String copyId) {
        copies.computeIfAbsent(copyId, k -> new Counters());
    }

    /** Forgets a copy that is gone. */
    void forget(String copyId) {
        copies.remove(copyId);
    }

    private void executionSample(RecordedEvent e) {
        allSamples.increment();
        Counters c = owner(e.getStackTrace());
        if (c != null) {
            c.cpuSamples.increment();
        }
    }

    private void allocationSample(RecordedEvent e) {
        Counters c = owner(e.getStackTrace());
        if (c != null) {
            c.allocated.add(e.getLong("weight"));
        }
    }

    private void loaderStatistics(RecordedEvent e) {
        RecordedClassLoader loader = e.getValue("classLoader");
        String id = copyOf(loader);
        if (id != null) {
            Counters c = copies.get(id);
            if (c != null) {
                c.classes = e.getLong("classCount");
                c.metaspace = e.getLong("chunkSize");
            }
        }
    }

    /** The counters of the isolate that owns the top-most app frame; null for the runtime's own work. */
    private Counters owner(RecordedStackTrace stack) {
        if (stack == null) {
            return null;
        }
        List<RecordedFrame> frames = stack.getFrames();
        for (RecordedFrame frame : frames) {
            if (frame.getMethod() == null) {
                continue;
            }
            String id = copyOf(frame.getMethod().getType().getClassLoader());
            if (id != null) {
                return copies.computeIfAbsent(id, k -> new Counters());
            }
        }
        return null;
    }

    private static String copyOf(RecordedClassLoader loader) {
        if (loader == null || loader.getName() == null || !loader.getName().startsWith(LOADER_PREFIX)) {
            return null;
        }
        return loader.getName().substring(LOADER_PREFIX.length());
    }

    private void tickLoop() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(TICK_MS);
                tick();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void tick() {
        long now = System.nanoTime();
        Map<String, long[]> perCopy = new HashMap<>();
        copies.forEach((id, c) -> perCopy.put(id, new long[] {c.cpuSamples.sum(), c.allocated.sum()}));
        Tick current = new Tick(now, os.getProcessCpuTime(), allSamples.sum(), perCopy);
        ticks.addLast(current);
        while (ticks.size() > 2 && now - ticks.peekFirst().nanos() > WINDOW.toNanos()) {
            ticks.removeFirst();
        }
        Tick first = ticks.peekFirst();
        double seconds = (now - first.nanos()) / 1e9;
        long samples = current.allSamples() - first.allSamples();
        double jvmCores = seconds > 0 && current.cpuNanos() >= 0 ? (current.cpuNanos() - first.cpuNanos()) / 1e9 / seconds : 0;
        Map<String, CopyUsage> result = new HashMap<>();
        perCopy.forEach((id, v) -> {
            long[] before = first.perCopy().getOrDefault(id, new long[2]);
            double share = samples > 0 ? (double) (v[0] - before[0]) / samples : 0;
            double allocRate = seconds > 0 ? (v[1] - before[1]) / seconds : 0;
            Counters c = copies.get(id);
            result.put(id, new CopyUsage(share, share * jvmCores, v[1], allocRate,
                    c == null ? 0 : c.classes, c == null ? 0 : c.metaspace));
        });
        usage = Map.copyOf(result);
    }

    @Override
    public void close() {
        ticker.interrupt();
        stream.close();
    }

    private record Tick(long nanos, long cpuNanos, long allSamples, Map<String, long[]> perCopy) {
    }

    private static final class Counters {
        final LongAdder cpuSamples = new LongAdder();
        final LongAdder allocated = new LongAdder();
        volatile long classes;
        volatile long metaspace;
    }
}
