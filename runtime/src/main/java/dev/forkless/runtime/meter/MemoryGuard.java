package dev.forkless.runtime.meter;

import dev.forkless.runtime.CopyUsage;
import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.OperationResult;
import dev.forkless.runtime.WorkerSnapshot;
import dev.forkless.runtime.WorkerState;
import dev.forkless.runtime.supervisor.Supervisor;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code --max-memory}: replaces, with the supervisor's drained restart, a copy that uses too much memory.
 * A child process: when its resident memory passes the limit. Isolates: when the JVM's heap after a GC
 * passes the limit, the serving isolate that allocates the most goes first, the one that keeps the most
 * by the meter's estimate between equals (the JVM cannot tell exactly which isolate keeps which bytes, see
 * docs/operations.md). One replacement at a time;
 * after one, the heap is judged again only after a GC that followed it.
 */
public final class MemoryGuard implements AutoCloseable {

    private static final long PERIOD_MS = 1000;
    /**
     * How long the guard waits, once over the limit, for the meter to say what each copy keeps now (it asks
     * for a read at once, and keeps asking from half the limit on; a read takes 1 to 3 s).
     */
    static final java.time.Duration FRESH_WAIT = java.time.Duration.ofSeconds(6);

    private final long limit;
    private final Supplier<List<WorkerSnapshot>> workers;
    private final Function<String, java.util.Optional<CopyUsage>> usage;
    private final Function<String, CompletableFuture<OperationResult>> restart;
    private final Consumer<ForklessEvent> publish;
    private final long self = ProcessHandle.current().pid();
    private final HeapAfterGc heap = new HeapAfterGc();
    private final Thread thread;
    private volatile CompletableFuture<OperationResult> pending = CompletableFuture.completedFuture(null);
    private volatile long gcsWhenDone = -1;
    /** Each isolate's allocated bytes when the guard last looked (its own thread only). */
    private java.util.Map<String, Long> allocatedAtLastCheck = java.util.Map.of();
    /** When the meter's estimate of what each copy keeps was taken (see {@link #check}). */
    private final Supplier<Instant> keptAt;
    /** Asks the meter to read what each copy keeps now rather than at its next period. */
    private final Runnable askKept;
    /** The heap after GC past which the guard acts at once: half way from the limit to the JVM's maximum. */
    private final long urgent;
    /** The copy replaced last, until it is unloaded (its own thread only). */
    private String replaced;
    /** When the heap after GC was first seen over the limit since the last replacement; null while under. */
    private Instant overSince;

    public MemoryGuard(long limit, Supplier<List<WorkerSnapshot>> workers,
                Function<String, java.util.Optional<CopyUsage>> usage, Supplier<Instant> keptAt, Runnable askKept,
                Function<String, CompletableFuture<OperationResult>> restart, Consumer<ForklessEvent> publish) {
        this.limit = limit;
        this.keptAt = keptAt;
        this.askKept = askKept;
        long max = Runtime.getRuntime().maxMemory();
        this.urgent = max == Long.MAX_VALUE || max <= limit ? limit : limit + (max - limit) / 2;
        this.workers = workers;
        this.usage = usage;
        this.restart = restart;
        this.publish = publish;
        this.thread = Supervisor.runtimeThreads().name("forkless-memory-guard").start(this::loop);
    }

    /** @return the heap in use after the JVM's last GC, or -1 before the first */
    long heapAfterGc() {
        return heap.bytes();
    }

    private void loop() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(PERIOD_MS);
                try {
                    check();
                } catch (RuntimeException e) {
                    System.getLogger("forkless").log(System.Logger.Level.WARNING, "memory guard check failed", e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void check() {
        if (!pending.isDone()) {
            return;
        }
        List<WorkerSnapshot> all = workers.get();
        String gone = replaced;
        if (gone != null) {
            // what the replaced copy kept is freed only once it has drained and is unloaded: until then
            // the heap stays over the limit, and the guard would replace innocent copies one after another
            // (unless the restart failed: the copy then serves on, and is judged again)
            boolean failed = pending.isCompletedExceptionally() || !pending.join().ok();
            if (!failed && all.stream().anyMatch(w -> w.id().equals(gone) && w.state() != WorkerState.STOPPED)) {
                return;
            }
            replaced = null;
            gcsWhenDone = heap.gcs();
            return;
        }
        List<WorkerSnapshot> serving = all.stream().filter(w -> w.state() == WorkerState.READY).toList();
        for (WorkerSnapshot w : serving) {
            if (w.pid() > 0 && w.pid() != self) {
                long rss = rss(w.pid());
                if (rss > limit) {
                    replace(w, "rss", rss);
                    return;
                }
            }
        }
        List<WorkerSnapshot> isolates = serving.stream().filter(w -> w.pid() == self).toList();
        java.util.Map<String, Long> allocatedNow = new java.util.HashMap<>();
        for (WorkerSnapshot w : isolates) {
            usage.apply(w.id()).ifPresent(u -> allocatedNow.put(w.id(), u.allocatedBytes()));
        }
        java.util.Map<String, Long> before = allocatedAtLastCheck;
        allocatedAtLastCheck = allocatedNow;
        long bytes = heap.bytes();
        if (bytes > limit / 2) {
            // the leak profiler runs in windows (LeakWindows): past half the limit, they follow each other, so
            // that a read of what each copy keeps is at most a few seconds old when the heap passes the limit
            askKept.run();
        }
        if (bytes <= limit || heap.gcs() <= gcsWhenDone) {
            overSince = null;
            return;
        }
        Instant now = Instant.now();
        if (overSince == null) {
            overSince = now;
            askKept.run();
        }
        // What each copy keeps is the evidence, but the leak profiler is read every few seconds: a read from
        // before the heap passed the limit still shows what the copies kept before (CI picked the quiet copy
        // three times on older evidence). Wait for a read taken since, up to FRESH_WAIT, unless the heap is
        // half way to full already (a fast leak fills it meanwhile: CI saw a 1 GB heap full in 10 s); then
        // go on what the copies allocate now.
        boolean fresh = keptAt.get().isAfter(overSince);
        if (!fresh && bytes < urgent && now.isBefore(overSince.plus(FRESH_WAIT))) {
            return;
        }
        java.util.function.ToLongFunction<String> allocatedLately =
                id -> allocatedNow.getOrDefault(id, 0L) - before.getOrDefault(id, 0L);
        choose(fresh, isolates, usage, allocatedLately)
                .ifPresent(w -> {
                    overSince = null;
                    replace(w, "heap-after-gc", bytes);
                });
    }

    /**
     * The copy to replace: with a fresh estimate of what each copy keeps, the one that keeps the most;
     * without one (the heap is half way to full before the estimate came), the one an older estimate
     * singles out ({@link #clearlyKeepsMost}), else the one that allocates the most. Allocation alone is a
     * weak sign: a copy serving a load can allocate faster than a leak grows (CI saw the guard replace the
     * loaded copy, the leaking one keeping half the heap by the last estimate).
     */
    static java.util.Optional<WorkerSnapshot> choose(boolean fresh, List<WorkerSnapshot> isolates,
                                                    Function<String, java.util.Optional<CopyUsage>> usage,
                                                    java.util.function.ToLongFunction<String> allocatedLately) {
        if (fresh) {
            return keepsMost(isolates, usage, allocatedLately);
        }
        java.util.Optional<WorkerSnapshot> clearly = clearlyKeepsMost(isolates, usage);
        return clearly.isPresent() ? clearly : allocatesMost(isolates, usage, allocatedLately);
    }

    /**
     * @return the isolate that keeps at least {@value #CLEAR_SHARE} of the heap by the last estimate and at
     *         least twice what any other keeps; empty when no copy stands out so
     */
    static java.util.Optional<WorkerSnapshot> clearlyKeepsMost(List<WorkerSnapshot> isolates,
                                                              Function<String, java.util.Optional<CopyUsage>> usage) {
        java.util.function.ToDoubleFunction<WorkerSnapshot> share =
                w -> usage.apply(w.id()).map(CopyUsage::keptHeapShare).orElse(0.0);
        java.util.Optional<WorkerSnapshot> most = isolates.stream().max(Comparator.comparingDouble(share));
        return most.filter(m -> share.applyAsDouble(m) >= CLEAR_SHARE && isolates.stream()
                .filter(w -> w != m).allMatch(w -> 2 * share.applyAsDouble(w) <= share.applyAsDouble(m)));
    }

    /** The share of the heap an older estimate must give one copy for the guard to go on it. */
    static final double CLEAR_SHARE = 0.3;

    /**
     * The isolate that keeps the most by the meter's estimate (the leak profiler's live samples, taken after
     * the heap passed the limit); between copies that keep alike, the one that allocated the most since the
     * guard's last look.
     */
    static java.util.Optional<WorkerSnapshot> keepsMost(List<WorkerSnapshot> isolates,
                                                       Function<String, java.util.Optional<CopyUsage>> usage,
                                                       java.util.function.ToLongFunction<String> allocatedLately) {
        return isolates.stream().max(kept(usage).thenComparing(allocatingNow(allocatedLately)));
    }

    /**
     * Without a fresh estimate of what each copy keeps: the isolate that allocated the most since the guard's
     * last look, a second ago (the meter's 10 s rate would still count the copies' own starts), then the
     * 10 s rate, then what it kept by the last estimate.
     */
    static java.util.Optional<WorkerSnapshot> allocatesMost(List<WorkerSnapshot> isolates,
                                                           Function<String, java.util.Optional<CopyUsage>> usage,
                                                           java.util.function.ToLongFunction<String> allocatedLately) {
        Comparator<WorkerSnapshot> allocating = Comparator.comparingDouble(w -> usage.apply(w.id())
                .map(CopyUsage::allocatedBytesPerSecond).orElse(0.0));
        return isolates.stream().max(allocatingNow(allocatedLately).thenComparing(allocating).thenComparing(kept(usage)));
    }

    private static Comparator<WorkerSnapshot> kept(Function<String, java.util.Optional<CopyUsage>> usage) {
        return Comparator.comparingDouble(w -> usage.apply(w.id()).map(CopyUsage::keptHeapShare).orElse(0.0));
    }

    private static Comparator<WorkerSnapshot> allocatingNow(java.util.function.ToLongFunction<String> allocatedLately) {
        return Comparator.comparingLong(w -> allocatedLately.applyAsLong(w.id()));
    }

    private void replace(WorkerSnapshot w, String measure, long bytes) {
        publish.accept(new ForklessEvent.MemoryRestart(Instant.now(), w.id(), w.mode().orElseThrow(), measure, bytes, limit));
        gcsWhenDone = Long.MAX_VALUE;
        replaced = w.id();
        pending = restart.apply(w.id());
    }

    private static long rss(long pid) {
        java.nio.file.Path status = java.nio.file.Path.of("/proc", String.valueOf(pid), "status");
        try (var lines = java.nio.file.Files.lines(status)) {
            return lines.filter(l -> l.startsWith("VmRSS:")).findFirst()
                    .map(l -> Long.parseLong(l.substring(6).trim().split("\\s+")[0]) * 1024).orElse(-1L);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        thread.interrupt();
        heap.close();
    }
}
