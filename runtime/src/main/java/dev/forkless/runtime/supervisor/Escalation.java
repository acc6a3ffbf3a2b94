package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.Mode;
import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.OperationResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code --escalate}: what the runtime does when in-JVM isolation is not enough for an app.
 *
 * <ol>
 *   <li>An isolate leaked threads (its unload left {@code leftoverThreads}: a loop in JDK code, a
 *       deadlock): from then on copies run as child JVMs, and a rolling reload replaces every copy, without
 *       a failed request ({@link ForklessEvent.Escalated}).</li>
 *   <li>If the runtime's own JVM then keeps burning CPU (the leaked threads spin), it says so once
 *       ({@link ForklessEvent.CpuLeak}): the CLI then hands its listening sockets to a fresh runtime JVM
 *       and exits, and the CPU comes back with it.</li>
 * </ol>
 */
public final class Escalation implements Consumer<ForklessEvent> {

    private static final System.Logger LOG = System.getLogger("forkless");
    /** Below this share of one core over the window, the runtime's JVM counts as idle. */
    private static final double BURNING_CORES = 0.5;

    private final AtomicReference<Mode> mode;
    private final Duration window;
    private final Consumer<ForklessEvent> publish;
    private final java.util.function.Supplier<java.util.concurrent.CompletableFuture<OperationResult>> reload;
    private final AtomicBoolean escalated = new AtomicBoolean();
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile Thread watcher;

    public Escalation(AtomicReference<Mode> mode, Duration window, Consumer<ForklessEvent> publish,
               java.util.function.Supplier<java.util.concurrent.CompletableFuture<OperationResult>> reload) {
        this.mode = mode;
        this.window = window;
        this.publish = publish;
        this.reload = reload;
    }

    @Override
    public void accept(ForklessEvent event) {
        if (event instanceof ForklessEvent.Unloaded u && u.mode() == Mode.ISOLATE && !u.leftoverThreads().isEmpty()
                && escalated.compareAndSet(false, true)) {
            mode.set(Mode.PROCESS);
            publish.accept(new ForklessEvent.Escalated(Instant.now(), "isolate " + u.workerId() + " left "
                    + u.leftoverThreads().size() + " thread(s) running: " + String.join(", ", u.leftoverThreads())));
            reload.get().thenAccept(result -> {
                if (result.ok()) {
                    watcher = Supervisor.runtimeThreads().name("forkless-cpu-watch").start(this::watchCpu);
                }
            });
        }
    }

    /**
     * Every copy is a process now: the runtime's JVM should idle. Says so once if it does not: when its threads
     * asked for half a core or more over the window. What they asked for is the time each thread ran plus the
     * time it waited, runnable, for a processor ({@code /proc/self/task/TID/schedstat}): a spinning thread asks
     * for a whole core however busy the machine is, while the CPU it gets shrinks with the machine's load (with
     * three builds beside it on 2 cores, a spinner got well under half a core and was never reported). Where
     * the kernel gives no schedstat, the CPU the process used is measured instead.
     */
    private void watchCpu() {
        Deque<Sample> samples = new ArrayDeque<>();
        try {
            while (!reported.get()) {
                Sample now = Sample.take();
                samples.addLast(now);
                while (now.nanoTime() - samples.getFirst().nanoTime() > window.toNanos()) {
                    samples.removeFirst();
                }
                Sample first = samples.getFirst();
                double elapsed = (now.nanoTime() - first.nanoTime()) / 1e9;
                if (elapsed >= window.toNanos() / 1e9 * 0.9) {
                    double cores = now.secondsSince(first) / elapsed;
                    if (cores >= BURNING_CORES && reported.compareAndSet(false, true)) {
                        publish.accept(new ForklessEvent.CpuLeak(Instant.now(), cores));
                    }
                }
                Thread.sleep(250);
            }
        } catch (InterruptedException stopped) {
            // the runtime stops
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot watch the runtime's CPU: " + e.getMessage());
        }
    }

    /**
     * What the JVM's threads had asked for at one moment.
     *
     * @param nanoTime   when
     * @param perThread  run + run-queue wait in nanoseconds, by thread id; empty where schedstat is missing
     * @param cpuSeconds the CPU the process used (user + system), the fallback
     */
    record Sample(long nanoTime, java.util.Map<String, Long> perThread, double cpuSeconds) {

        static Sample take() throws IOException {
            return new Sample(System.nanoTime(), demandByThread(), processCpuSeconds());
        }

        /**
         * @return seconds of demand between an earlier sample and this one: per thread, what it asked for since
         *         (a thread born since counts from zero; a thread gone since is left out)
         */
        double secondsSince(Sample earlier) {
            if (perThread.isEmpty() || earlier.perThread.isEmpty()) {
                return cpuSeconds - earlier.cpuSeconds;
            }
            long nanos = 0;
            for (var thread : perThread.entrySet()) {
                nanos += Math.max(0, thread.getValue() - earlier.perThread.getOrDefault(thread.getKey(), 0L));
            }
            return nanos / 1e9;
        }

        private static java.util.Map<String, Long> demandByThread() {
            java.util.Map<String, Long> demand = new java.util.HashMap<>();
            try (var tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
                for (Path task : tasks) {
                    try {
                        String[] fields = Files.readString(task.resolve("schedstat")).trim().split(" ");
                        demand.put(task.getFileName().toString(), Long.parseLong(fields[0]) + Long.parseLong(fields[1]));
                    } catch (IOException | RuntimeException gone) {
                        // the thread ended meanwhile, or the kernel keeps no schedstat
                    }
                }
            } catch (IOException | RuntimeException noProc) {
                return java.util.Map.of();
            }
            return demand;
        }

        private static double processCpuSeconds() throws IOException {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
        }
    }

    public void close() {
        Thread w = watcher;
        if (w != null) {
            w.interrupt();
        }
    }
}
