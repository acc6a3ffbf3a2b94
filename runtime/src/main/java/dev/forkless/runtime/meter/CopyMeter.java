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
 * ({@code jdk.OldObjectSample}: up to 256 sampled allocations that are still alive when a window of the
 * profiler closes, see {@link LeakWindows}): the share of those samples whose allocating stack is the
 * isolate's code, times the heap after the last GC. See docs/decisions.md (Metering isolates) for the cost.
 */
public final class CopyMeter implements AutoCloseable {

    /** The isolate class loaders' names: {@code isolate-ID}. */
    private static final String LOADER_PREFIX = "isolate-";
    static final Duration SAMPLE_PERIOD = Duration.ofMillis(100);
    static final Duration WINDOW = Duration.ofSeconds(10);
    private static final long TICK_MS = 1000;
    /** The memory guard asked for a read of what each copy keeps (see {@link #readKeptSoon()}). */
    private volatile boolean keptWanted;
    /** When the leak profiler runs. */
    private final LeakWindows leakWindows = LeakWindows.DEFAULT;
    /** Wakes the ticker when the memory guard asks for a read. */
    private final Object wake = new Object();
    /** The leak profiler's open window, or null; the ticker thread only. */
    private Recording leakWindow;
    /** When the open window closes, when the last one closed (0: none yet), when metering began (nanoTime). */
    private long leakWindowEnds;
    private long leakWindowClosed;
    private long meteringBegan;
    /** The heap after GC when the last window closed (-1: unknown); the ticker thread only. */
    private long heapAtWindowEnd = -1;
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
    /** Whether metering is asked for ({@link #meter(boolean)}); the ticker opens or closes the stream to match. */
    private volatile boolean wanted;
    /**
     * What the ticker last made of {@link #wanted}: true once it opened the stream (or tried to: a failed open is
     * tried again at the next tick), false once it closed it. Before the ticker's first step, what is wanted.
     * Guarded by {@link #wake}.
     */
    private boolean followed;
    /** The ticker took its first step (the stream opens when a copy is ready); guarded by {@link #wake}. */
    private boolean started;
    /** Opening or closing the stream, and {@link #close()}: one at a time. */
    private final Object switching = new Object();
    /** How long {@link #meter(boolean)} waits for the ticker to open or close the stream. */
    private static final Duration SWITCH_TIMEOUT = Duration.ofSeconds(30);
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
    /** The last whole read of the leak profiler's samples. */
    private volatile Kept kept = new Kept(Map.of(), java.time.Instant.EPOCH);
    /** When the read that {@link #usage} holds was taken. */
    private volatile java.time.Instant usageKeptAt = java.time.Instant.EPOCH;

    /** Each isolate's share of the live samples, and when the profiler emitted them. */
    private record Kept(Map<String, Double> shares, java.time.Instant at) {
    }

    /** A meter that meters from the first ready copy on. */
    public CopyMeter() {
        this(true);
    }

    /**
     * @param on whether to meter from the first ready copy on, or only once {@link #meter(boolean) meter(true)}
     *           asks
     */
    public CopyMeter(boolean on) {
        wanted = on;
        followed = on;
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
        synchronized (switching) {
            if (!closed && wanted && stream != null && System.nanoTime() - lastFlush > STREAM_SILENCE.toNanos()) {
                System.getLogger("forkless").log(System.Logger.Level.WARNING,
                        "the metering stream stopped (JFR's thread ended, the heap was full?): opened it again");
                RecordingStream old = stream;
                stream = open();
                old.close();
            }
        }
    }

    /**
     * Turns metering off or on while the runtime runs: off closes the JFR stream and the leak profiler's window,
     * so nothing of metering is left in the JVM and no copy has usage figures; on opens them again, and the
     * figures come back after a tick. Returns once the stream is closed or open, or after 30 s when the ticker
     * is held up (it follows later); before the first copy is ready, at once (the stream opens then, or not).
     * The memory guard chooses without figures meanwhile, as with {@code --no-metering}.
     *
     * @param on whether to meter
     * @return whether the meter did as asked: false when it could not within 30 s, or is closed
     */
    public boolean meter(boolean on) {
        long deadline = System.nanoTime() + SWITCH_TIMEOUT.toNanos();
        synchronized (wake) {
            wanted = on;
            if (!started) { // the ticker waits for the first ready copy: it follows what is wanted then
                followed = on;
                return !closed;
            }
            wake.notifyAll();
            while (followed != on && !closed && ticker.isAlive() && deadline - System.nanoTime() > 0) {
                try {
                    wake.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return followed == on && !closed;
        }
    }

    /** @return whether the meter meters (or will once a copy is ready): it was not turned off by {@link #meter(boolean)} */
    public boolean metering() {
        synchronized (wake) {
            return followed && !closed;
        }
    }

    /** @return what the copy costs, once it has been metered for a tick */
    public Optional<CopyUsage> usage(String copyId) {
        return Optional.ofNullable(usage.get(copyId));
    }

    /**
     * @return when the leak profiler's samples behind {@link CopyUsage#keptHeapShare()} were taken (they are
     *         read when a window of the leak profiler closes, see {@link LeakWindows}); {@link java.time.Instant#EPOCH}
     *         before the first read
     */
    public java.time.Instant keptAt() {
        return usageKeptAt;
    }

    /** Reads what each copy keeps at the next tick (within a second) instead of at its period. */
    public void readKeptSoon() {
        keptWanted = true;
        synchronized (wake) {
            wake.notifyAll();
        }
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

    /**
     * Opens or closes the leak profiler's window when {@link #leakWindows} says so (the ticker thread). The
     * window is a recording of that event alone; closing it emits its samples of objects still alive (read
     * from the recording, see {@link #closeLeakWindow}) and stops the profiler unless another recording of
     * the JVM keeps it on.
     */
    private void leakWindowTick(long now) {
        boolean asked = keptWanted;
        keptWanted = false;
        long heapNow = heap.bytes();
        if (heapAtWindowEnd < 0) {
            heapAtWindowEnd = heapNow; // the first figure after metering began is the base
        }
        if (leakWindow != null) {
            if (asked) {
                Duration left = leakWindows.shortenedForGuard(Duration.ofNanos(Math.max(0, leakWindowEnds - now)));
                leakWindowEnds = now + left.toNanos();
            }
            if (now - leakWindowEnds >= 0) {
                closeLeakWindow();
                leakWindowClosed = now;
                heapAtWindowEnd = heap.bytes();
            }
            return;
        }
        Optional<Duration> sinceLast = leakWindowClosed == 0 ? Optional.empty()
                : Optional.of(Duration.ofNanos(now - leakWindowClosed));
        leakWindows.opens(sinceLast, Duration.ofNanos(now - meteringBegan), heapNow, heapAtWindowEnd, asked)
                .ifPresent(length -> {
                    try {
                        Recording r = new Recording();
                        r.setName("forkless leak profiler window");
                        r.enable("jdk.OldObjectSample").withStackTrace().with("cutoff", "0 ns");
                        r.start();
                        leakWindow = r;
                        leakWindowEnds = now + length.toNanos();
                    } catch (RuntimeException e) {
                        System.getLogger("forkless").log(System.Logger.Level.DEBUG, "cannot start the leak profiler", e);
                    }
                });
    }

    /** @return how long the ticker sleeps: a second, or less when the leak profiler's window closes sooner */
    private synchronized long nextTickMillis() {
        if (leakWindow == null && !keptWanted) {
            return TICK_MS;
        }
        long untilEnd = leakWindow == null ? 0 : (leakWindowEnds - System.nanoTime()) / 1_000_000;
        return Math.clamp(untilEnd, 50, TICK_MS);
    }

    /**
     * Closes the open window: the profiler emits its samples of objects still alive, and each isolate's
     * share of them is what it keeps until the next window closes. They are read from the window's own
     * recording, at once (the stream would deliver them within a second, mixed with the next window's).
     */
    private void closeLeakWindow() {
        Recording r = leakWindow;
        leakWindow = null;
        if (r == null) {
            return;
        }
        java.nio.file.Path file = null;
        try (r) {
            r.stop();
            file = java.nio.file.Files.createTempFile("forkless-leak-window", ".jfr");
            r.dump(file);
            Map<String, Integer> byCopy = new HashMap<>();
            int total = 0;
            try (jdk.jfr.consumer.RecordingFile samples = new jdk.jfr.consumer.RecordingFile(file)) {
                while (samples.hasMoreEvents()) {
                    RecordedEvent e = samples.readEvent();
                    if (e.getEventType().getName().equals("jdk.OldObjectSample")) {
                        total++;
                        RecordedStackTrace stack = e.getStackTrace();
                        String id = stack == null ? null : ownerId(stack);
                        if (id != null) {
                            byCopy.merge(id, 1, Integer::sum);
                        }
                    }
                }
            }
            int all = total;
            Map<String, Double> shares = new HashMap<>();
            byCopy.forEach((id, n) -> shares.put(id, (double) n / all));
            kept = new Kept(Map.copyOf(shares), java.time.Instant.now());
        } catch (java.io.IOException | RuntimeException e) {
            System.getLogger("forkless").log(System.Logger.Level.WARNING, "cannot read the leak profiler's samples: "
                    + e.getMessage());
        } finally {
            if (file != null) {
                try {
                    java.nio.file.Files.deleteIfExists(file);
                } catch (java.io.IOException ignored) {
                    // a temporary file left behind
                }
            }
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
            synchronized (wake) {
                started = true;
            }
            if (closed) {
                return;
            }
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    if (!follow()) {
                        return; // the JVM is shutting down (JFR cannot start then): nothing left to meter
                    }
                    if (stream != null) {
                        tick();
                        reviveStream();
                    } else {
                        keptWanted = false; // nothing to read: the guard chooses without figures
                    }
                } catch (RuntimeException | OutOfMemoryError e) {
                    // a full heap: the next tick tries again
                }
                long sleep = nextTickMillis();
                synchronized (wake) {
                    if (!keptWanted && wanted == followed) {
                        wake.wait(sleep);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Opens or closes the stream as {@link #meter(boolean)} asked (the ticker thread), and tells the caller waiting
     * there. A stream that cannot open (a full heap) counts as followed: the next tick tries again, and
     * {@link #reviveStream} is not needed for it.
     *
     * @return false when JFR cannot start (the JVM is shutting down) or the meter is closed
     */
    private boolean follow() {
        boolean on = wanted;
        boolean running = true;
        synchronized (switching) {
            if (closed) {
                running = false;
            } else if (on && stream == null) {
                meteringBegan = System.nanoTime();
                try {
                    stream = open();
                } catch (IllegalStateException | SecurityException e) {
                    running = false; // the JVM is shutting down
                } catch (RuntimeException | OutOfMemoryError e) {
                    // a full heap: opened at the next tick
                }
            } else if (!on && stream != null) {
                RecordingStream s = stream;
                stream = null;
                synchronized (this) {
                    discardLeakWindow();
                    leakWindowClosed = 0;
                    heapAtWindowEnd = -1;
                    ticks.clear();
                    usage = Map.of();
                    kept = new Kept(Map.of(), java.time.Instant.EPOCH);
                    usageKeptAt = java.time.Instant.EPOCH;
                }
                s.close();
            }
        }
        synchronized (wake) {
            if (running) {
                followed = on;
            }
            wake.notifyAll();
        }
        return running;
    }

    /** Ends the leak profiler's open window without reading its samples (metering was turned off). */
    private void discardLeakWindow() {
        Recording r = leakWindow;
        leakWindow = null;
        if (r != null) {
            r.close();
        }
    }

    private synchronized void tick() {
        leakWindowTick(System.nanoTime());
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
        synchronized (wake) {
            closed = true;
            wake.notifyAll(); // a meter(..) waiting for the ticker returns
        }
        ticker.interrupt();
        try {
            ticker.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (switching) { // a stream the ticker is opening now is closed here, once open
            synchronized (this) {
                closeLeakWindow();
            }
            RecordingStream s = stream;
            stream = null;
            if (s != null) {
                s.close();
            }
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
