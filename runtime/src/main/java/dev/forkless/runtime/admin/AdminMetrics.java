package dev.forkless.runtime.admin;

import dev.forkless.runtime.Mode;
import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.WorkerSnapshot;
import dev.forkless.runtime.WorkerState;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The runtime's metrics, in a Micrometer Prometheus registry: per copy from {@link WorkerSnapshot}s
 * (refreshed at each scrape), from events (drains, crashes, reloads), and the runtime JVM's own.
 * Series of copies that are gone are removed.
 */
final class AdminMetrics implements Consumer<ForklessEvent>, AutoCloseable {

    private final PrometheusMeterRegistry registry = newRegistry();
    private final CopyResources resources;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final Timer drains;
    private final Counter forced;
    /** Series per copy, by meter name and tags: guarded by {@code this}. */
    private final Map<Series, Value> series = new HashMap<>();

    AdminMetrics(CopyResources resources) {
        this.resources = resources;

        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        gc.bindTo(registry);
        this.drains = Timer.builder("forkless.drain.duration")
                .description("How long copies took to drain, from not accepting to unloaded")
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofMillis(500),
                        Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30))
                .register(registry);
        this.forced = Counter.builder("forkless.drain.forced.connections")
                .description("Connections closed by force because a drain timed out")
                .register(registry);
    }

    private static PrometheusMeterRegistry newRegistry() {
        // Micrometer logs through SLF4J when it finds its API (resilience4j brings it, with no binding, and
        // SLF4J then prints a warning): the runtime logs through the JDK's logging
        io.micrometer.common.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
                io.micrometer.common.util.internal.logging.JdkLoggerFactory.INSTANCE);
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    /** Counts events; runs on the supervisor's thread, never blocks. */
    @Override
    public void accept(ForklessEvent event) {
        String name = switch (event) {
            case ForklessEvent.Drained d -> {
                drains.record(d.took());
                forced.increment(d.forcedConnections());
                yield "drained";
            }
            case ForklessEvent.Reloaded r -> {
                registry.counter("forkless.reloads", "result", r.ok() ? "ok" : "failed").increment();
                yield "reloaded";
            }
            default -> event.getClass().getSimpleName().toLowerCase(Locale.ROOT);
        };
        registry.counter("forkless.events", "event", name).increment();
    }

    /**
     * Updates the per-copy series from a snapshot of the copies and returns the Prometheus text.
     *
     * @param workers every copy now
     * @return the exposition, text format 0.0.4
     */
    synchronized String scrape(List<WorkerSnapshot> workers) {
        return scrape(workers, id -> java.util.Optional.empty());
    }

    /**
     * @param workers every copy now
     * @param usage   what each isolate costs, by id
     * @return the exposition, text format 0.0.4
     */
    synchronized String scrape(List<WorkerSnapshot> workers,
                               java.util.function.Function<String, java.util.Optional<dev.forkless.runtime.CopyUsage>> usage) {
        return scrape(Map.of("", workers), usage);
    }

    /**
     * @param workersByApp every copy now, by app: with several apps each copy's series and each slot's
     *                     restarts carry an {@code app} tag (slots of two apps share names)
     * @param usage        what each isolate costs, by id
     * @return the exposition, text format 0.0.4
     */
    synchronized String scrape(Map<String, List<WorkerSnapshot>> workersByApp,
                               java.util.function.Function<String, java.util.Optional<dev.forkless.runtime.CopyUsage>> usage) {
        Set<Series> now = new HashSet<>();
        Map<List<String>, Integer> restartsBySlot = new HashMap<>(); // [app, slot]
        Map<WorkerState, Integer> byState = new HashMap<>();
        for (WorkerState state : WorkerState.values()) {
            byState.put(state, 0);
        }
        boolean severalApps = workersByApp.size() > 1;
        for (var byApp : workersByApp.entrySet()) {
            String app = byApp.getKey();
            for (WorkerSnapshot w : byApp.getValue()) {
                byState.merge(w.state(), 1, Integer::sum);
                if (!w.slot().equals("-")) {
                    restartsBySlot.merge(List.of(app, w.slot()), w.restarts(), Math::max);
                }
                if (w.id().equals("-")) {
                    continue;
                }
                Tags tags = Tags.of("id", w.id(), "slot", w.slot(), "mode", w.mode().map(Mode::toString).orElse("-"));
                if (severalApps) {
                    tags = tags.and("app", app);
                }
                set(now, Kind.COUNTER, "forkless.worker.requests", "Requests the copy served", tags, w.requests());
                set(now, Kind.GAUGE, "forkless.worker.active.connections", "Open connections of the copy", tags,
                        w.activeConnections());
                set(now, Kind.GAUGE, "forkless.worker.uptime.seconds", "Time since the copy started", tags,
                        w.uptime().toMillis() / 1000.0);
                set(now, Kind.GAUGE, "forkless.worker.state", "1 for the state the copy is in",
                        tags.and("state", w.state().toString()), 1);
                var cpu = resources.cpuMs(w.pid());
                if (cpu.isPresent()) {
                    set(now, Kind.COUNTER, "forkless.worker.cpu.seconds", "CPU time of the copy's own process", tags,
                            cpu.getAsLong() / 1000.0);
                }
                var u = usage.apply(w.id());
                if (u.isPresent()) {
                    var cu = u.get();
                    set(now, Kind.GAUGE, "forkless.worker.cpu.share",
                            "Share of the runtime JVM's CPU samples in the isolate's code, last 10 s (JFR)", tags, cu.cpuShare());
                    set(now, Kind.GAUGE, "forkless.worker.cpu.cores",
                            "The isolate's CPU share times the JVM's CPU use, in cores", tags, cu.cpuCores());
                    set(now, Kind.COUNTER, "forkless.worker.allocated.bytes",
                            "Bytes the isolate's code allocated (JFR allocation samples)", tags, cu.allocatedBytes());
                    set(now, Kind.GAUGE, "forkless.worker.classes", "Classes the isolate's class loader holds", tags,
                            cu.classes());
                    set(now, Kind.GAUGE, "forkless.worker.metaspace.bytes", "Metaspace the isolate's class loader holds",
                            tags, cu.metaspaceBytes());
                    set(now, Kind.GAUGE, "forkless.worker.kept.heap.share",
                            "Share of the JVM's sampled live objects the isolate's code allocated (JFR leak profiler)", tags,
                            cu.keptHeapShare());
                    set(now, Kind.GAUGE, "forkless.worker.kept.heap.bytes",
                            "Estimated heap the isolate's objects keep: its kept share times the heap after the last GC", tags,
                            cu.keptHeapBytes());
                }
                var memory = resources.memoryBytes(w.pid());
                if (memory.isPresent()) {
                    set(now, Kind.GAUGE, "forkless.worker.resident.memory.bytes", "Resident memory of the copy's own process",
                            tags, memory.getAsLong());
                }
            }
        }
        restartsBySlot.forEach((slot, restarts) -> set(now, Kind.COUNTER, "forkless.slot.restarts",
                "Restarts of the slot's copies", severalApps ? Tags.of("slot", slot.get(1), "app", slot.get(0))
                        : Tags.of("slot", slot.get(1)), restarts));
        byState.forEach((state, n) -> set(now, Kind.GAUGE, "forkless.workers", "Copies in each state",
                Tags.of("state", state.toString()), n));
        var rss = CopyResources.rss(ProcessHandle.current().pid());
        if (rss.isPresent()) {
            set(now, Kind.GAUGE, "forkless.runtime.resident.memory.bytes",
                    "Resident memory of the runtime's process (every isolate included)", Tags.empty(), rss.getAsLong());
        }
        var gone = series.entrySet().iterator();
        while (gone.hasNext()) {
            var e = gone.next();
            if (!now.contains(e.getKey())) {
                registry.remove(e.getValue().meter);
                gone.remove();
            }
        }
        return registry.scrape();
    }

    private void set(Set<Series> now, Kind kind, String name, String description, Tags tags, double value) {
        Series key = new Series(name, tags);
        now.add(key);
        Value v = series.get(key);
        if (v == null) {
            v = new Value();
            Value holder = v;
            v.meter = kind == Kind.GAUGE
                    ? Gauge.builder(name, holder, h -> h.value).description(description).tags(tags).register(registry)
                    : FunctionCounter.builder(name, holder, h -> h.value).description(description).tags(tags)
                            .register(registry);
            series.put(key, v);
        }
        v.value = value;
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }

    private enum Kind { GAUGE, COUNTER }

    private record Series(String name, Tags tags) {
    }

    private static final class Value {
        volatile double value;
        Meter meter;
    }
}
