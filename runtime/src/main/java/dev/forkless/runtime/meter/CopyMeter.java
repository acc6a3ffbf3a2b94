package dev.forkless.runtime.meter;

import dev.forkless.runtime.CopyUsage;
import dev.forkless.runtime.supervisor.Supervisor;
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

import jdk.jfr.Recording;
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
 * each isolate's classes and metaspace. What each isolate keeps is estimated from JFR's leak profiler
 * ({@code jdk.OldObjectSample}: up to 256 sampled allocations that are still alive, emitted every
 * {@link #KEPT_PERIOD}): the share of those samples whose allocating stack is the isolate's code, times the
 * heap after the last GC. See docs/decisions.md (Metering isolates) for the cost.
 */
public final class CopyMeter implements AutoCloseable {

    /** The isolate class loaders' names: {@code isolate-ID}. */
    private static final String LOADER_PREFIX = "isolate-";
    static final Duration SAMPLE_PERIOD = Duration.ofMillis(100);
    static final Duration WINDOW = Duration.ofSeconds(10);
    private static final long TICK_MS = 1000;
    /** The memory guard asked for a read of what each copy keeps (see {@link #readKeptSoon()}). */
    private volatile boolean keptWanted;
    /** How often the leak profiler's live samples are read. */
    static final Duration KEPT_PERIOD = Duration.ofSeconds(5);
    /** Samples of one read arrive within this of each other; a read that saw nothing more for twice as long is whole. */
    private static final Duration BATCH = Duration.ofSeconds(1);
    /**
     * The stream opens when the first copy is ready ({@link #begin}), or this long after the meter was made:
     * starting JFR took about 400 ms of the start -> first answer of a runtime pinned to one CPU, for
     * figures nobody reads before a copy serves.
     */
    static final Duration OPEN_AT_LATEST = Duration.ofSeconds(10);
    private final java.util.concurrent.CountDownLatch begun = new java.util.concurrent.CountDownLatch(1);
    /** A stream that has not flushed for this long is dead. */
    private static final Duration STREAM_SILENCE = Duration.ofSeconds(15);

    /** The stream; replaced when it died (an OutOfMemoryError of the shared heap can end JFR's own threads). */
    private volatile RecordingStream stream;
    private volatile long lastFlush = System.nanoTime();
    private volatile boolean closed;
    private final Map<String, Counters> copies = new ConcurrentHashMap<>();
    private final LongAdder allSamples = new LongAdder();
    private final Thread ticker;
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    /** Ticks of the last {@link #WINDOW}: guarded by {@code this}. */
    private final Deque<Tick> ticks = new ArrayDeque<>();
    private volatile Map<String, CopyUsage> usage = Map.of();
    private final HeapAfterGc heap = new HeapAfterGc();
    /** The live samples of the read under way: guarded by itself. */
    private final Map<String, Integer> batch = new HashMap<>();
    private java.time.Instant batchTime;
    private int batchTotal;
    /** Each isolate's share of the live samples of the last whole read. */
    /** The last whole read of the leak profiler's samples. */
    private volatile Kept kept = new Kept(Map.of(), java.time.Instant.EPOCH);
    /** When the read that {@link #usage} holds was taken. */
    private volatile java.time.Instant usageKeptAt = java.time.Instant.EPOCH;

    /** Each isolate's share of the live samples, and when the profiler emitted them. */
    private record Kept(Map<String, Double> shares, java.time.Instant at) {
    }
    private long ticksDone;

    public CopyMeter() {
        ticker = Supervisor.runtimeThreads().name("forkless-meter").start(this::tickLoop);
    }

    /** A copy is ready: the stream opens now, if it has not yet (see {@link #OPEN_AT_LATEST}). */
    public void begin() {
        begun.countDown();
    }

    private RecordingStream open() {
        RecordingStream s = new RecordingStream();
        s.enable("jdk.ExecutionSample").withPeriod(SAMPLE_PERIOD).withStackTrace();
        s.enable("jdk.ObjectAllocationSample").with("throttle", "50/s").withStackTrace();
        s.enable("jdk.ClassLoaderStatistics").withPeriod(Duration.ofSeconds(5));
        s.enable("jdk.OldObjectSample").withStackTrace().with("cutoff", "0 ns");
        s.onEvent("jdk.OldObjectSample", safely(this::liveSample));
        s.onEvent("jdk.ExecutionSample", safely(this::executionSample));
        s.onEvent("jdk.ObjectAllocationSample", safely(this::allocationSample));
        s.onEvent("jdk.ClassLoaderStatistics", safely(this::loaderStatistics));
        s.onFlush(() -> lastFlush = System.nanoTime());
        s.setMaxAge(Duration.ofSeconds(30));
        lastFlush = System.nanoTime();
        s.startAsync();
        return s;
    }

    /** A handler that loses the one event, not the stream, when the heap is full. */
    private static java.util.function.Consumer<RecordedEvent> safely(java.util.function.Consumer<RecordedEvent> handler) {
        return e -> {
            try {
                handler.accept(e);
            } catch (RuntimeException | OutOfMemoryError lost) {
                // one sample less
            }
        };
    }

    /** Opens the stream again when it has not flushed for a while (it flushes every second while it runs). */
    private void reviveStream() {
        if (!closed && stream != null && System.nanoTime() - lastFlush > STREAM_SILENCE.toNanos()) {
            System.getLogger("forkless").log(System.Logger.Level.WARNING,
                    "the metering stream stopped (JFR's thread ended, the heap was full?): opened it again");
            RecordingStream old = stream;
            stream = open();
            old.close();
        }
    }

    /** @return what the copy costs, once it has been metered for a tick */
    public Optional<CopyUsage> usage(String copyId) {
        return Optional.ofNullable(usage.get(copyId));
    }

    /**
     * @return when the leak profiler's samples behind {@link CopyUsage#keptHeapShare()} were taken (they are
     *         read every {@link #KEPT_PERIOD}); {@link java.time.Instant#EPOCH} before the first read
     */
    public java.time.Instant keptAt() {
        return usageKeptAt;
    }

    /** Reads what each copy keeps at the next tick (within a second) instead of at its period. */
    public void readKeptSoon() {
        keptWanted = true;
    }

    /** @return every metered copy's usage, by id */
    Map<String, CopyUsage> usage() {
        return usage;
    }

    /** Starts metering a copy, so that one that never runs shows zero rather than nothing. */
    public void track(String copyId) {
        copies.computeIfAbsent(copyId, k -> new Counters());
    }

    /** Forgets a copy that is gone. */
    public void forget(String copyId) {
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

    /** One sampled allocation still alive, of the read under way. */
    private void liveSample(RecordedEvent e) {
        RecordedStackTrace stack = e.getStackTrace();
        String id = stack == null ? null : ownerId(stack);
        synchronized (batch) {
            if (batchTime != null && e.getEndTime().isAfter(batchTime.plus(BATCH))) {
                finishBatch();
            }
            if (batchTime == null) {
                batchTime = e.getEndTime();
            }
            batchTotal++;
            if (id != null) {
                batch.merge(id, 1, Integer::sum);
            }
        }
    }

    /** Takes the read under way as whole: each isolate's share of its samples. Holds {@code batch}. */
    private void finishBatch() {
        Map<String, Double> shares = new HashMap<>();
        int total = batchTotal;
        batch.forEach((id, n) -> shares.put(id, total == 0 ? 0 : (double) n / total));
        kept = new Kept(Map.copyOf(shares), batchTime);
        batch.clear();
        batchTotal = 0;
        batchTime = null;
    }

    /**
     * Has the leak profiler emit its samples of objects still alive: a recording of that event alone,
     * started and stopped (a few ms), whose events reach this stream too.
     */
    private void readLiveSamples() {
        try (Recording r = new Recording()) {
            r.enable("jdk.OldObjectSample").withStackTrace().with("cutoff", "0 ns");
            r.start();
            r.stop();
        } catch (RuntimeException e) {
            System.getLogger("forkless").log(System.Logger.Level.DEBUG, "cannot read the leak profiler's samples", e);
        }
    }

    /** The id of the isolate that owns the top-most app frame; null for the runtime's own work. */
    private static String ownerId(RecordedStackTrace stack) {
        for (RecordedFrame frame : stack.getFrames()) {
            if (frame.getMethod() != null) {
                String id = copyOf(frame.getMethod().getType().getClassLoader());
                if (id != null) {
                    return id;
                }
            }
        }
        return null;
    }

    /** The counters of the isolate that owns the top-most app frame; null for the runtime's own work. */
    private Counters owner(RecordedStackTrace stack) {
        String id = stack == null ? null : ownerId(stack);
        return id == null ? null : copies.computeIfAbsent(id, k -> new Counters());
    }

    private static String copyOf(RecordedClassLoader loader) {
        if (loader == null || loader.getName() == null || !loader.getName().startsWith(LOADER_PREFIX)) {
            return null;
        }
        return loader.getName().substring(LOADER_PREFIX.length());
    }

    private void tickLoop() {
        try {
            begun.await(OPEN_AT_LATEST.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            if (closed) {
                return;
            }
            stream = open();
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(TICK_MS);
                try {
                    tick();
                    reviveStream();
                } catch (RuntimeException | OutOfMemoryError e) {
                    // a full heap: the next tick tries again
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void tick() {
        boolean due = ticksDone++ % (KEPT_PERIOD.toMillis() / TICK_MS) == 0;
        if (due || keptWanted) {
            keptWanted = false;
            readLiveSamples();
        }
        synchronized (batch) {
            if (batchTime != null && java.time.Instant.now().isAfter(batchTime.plus(BATCH.multipliedBy(2)))) {
                finishBatch();
            }
        }
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
        Kept keptNow = kept;
        Map<String, Double> keptShares = keptNow.shares();
        long heapAfterGc = heap.bytes();
        perCopy.forEach((id, v) -> {
            long[] before = first.perCopy().getOrDefault(id, new long[2]);
            double share = samples > 0 ? (double) (v[0] - before[0]) / samples : 0;
            double allocRate = seconds > 0 ? (v[1] - before[1]) / seconds : 0;
            Counters c = copies.get(id);
            double keptShare = keptShares.getOrDefault(id, 0.0);
            result.put(id, new CopyUsage(share, share * jvmCores, v[1], allocRate,
                    c == null ? 0 : c.classes, c == null ? 0 : c.metaspace,
                    keptShare, heapAfterGc < 0 ? 0 : Math.round(keptShare * heapAfterGc)));
        });
        usage = Map.copyOf(result);
        usageKeptAt = keptNow.at();
    }

    @Override
    public void close() {
        closed = true;
        ticker.interrupt();
        try {
            ticker.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        RecordingStream s = stream;
        if (s != null) {
            s.close();
        }
        heap.close();
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
