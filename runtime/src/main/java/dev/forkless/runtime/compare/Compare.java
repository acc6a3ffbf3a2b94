package dev.forkless.runtime.compare;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;

/**
 * {@code --compare}: runs an app as isolates, then as child processes, one after the other on this
 * machine, measures both the same way, and prints a side-by-side table (also written as JSON and
 * Markdown). Traffic goes only to 127.0.0.1, and the run stops by itself.
 *
 * <p>Each mode is started twice: once without a standby (time to first served request, then a crash
 * replaced cold), once with one warm standby (memory, load, a crash replaced by the standby, failed
 * requests while a crash is injected under load and while every copy is restarted in turn).
 */
public final class Compare {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration EVENT_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration MAX_WARMUP = Duration.ofSeconds(15);

    /**
     * What to compare.
     *
     * @param app          the app jar
     * @param appArgs      its arguments
     * @param copies       serving copies
     * @param drainTimeout the drain timeout of both runtimes
     * @param jvmArgs      JVM options: of the runtime in isolate mode, of each child in process mode
     * @param duration     how long load is measured
     * @param connections  concurrent connections of the load
     * @param path         the path the load requests
     * @param crashPath    the path that crashes a copy
     * @param exitPath     the path that makes a copy exit
     * @param reportDir    where the report goes
     */
    public record Config(Path app, List<String> appArgs, int copies, Duration drainTimeout, List<String> jvmArgs,
                         Duration duration, int connections, String path, String crashPath, String exitPath,
                         Path reportDir) {
        public Config {
            appArgs = List.copyOf(appArgs);
            jvmArgs = List.copyOf(jvmArgs);
        }

        Duration warmup() {
            return duration.compareTo(MAX_WARMUP) > 0 ? MAX_WARMUP : duration;
        }
    }

    private final Config config;
    private final PrintStream out;
    private final PrintStream err;

    /**
     * @param config what to compare
     * @param out    where the table goes
     * @param err    where progress goes
     */
    public Compare(Config config, PrintStream out, PrintStream err) {
        this.config = config;
        this.out = out;
        this.err = err;
    }

    static String javaCommand() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** @return the exit code: 0 with a full report, 1 when a measurement failed */
    public int run() {
        try {
            ModeResult isolate = measure(false);
            ModeResult process = measure(true);
            Report report = new Report(config, isolate, process);
            report.write(config.reportDir());
            out.print(report.table());
            out.flush();
            err.println("forkless compare: report written to " + config.reportDir().resolve("compare.md") + " and "
                    + config.reportDir().resolve("compare.json"));
            return 0;
        } catch (TimeoutException | IOException | IllegalStateException e) {
            err.println("forkless: compare failed: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("forkless: compare interrupted");
            return 1;
        }
    }

    private void progress(String mode, String what) {
        err.println("forkless compare: " + mode + ": " + what);
    }

    /** Everything measured of one mode. */
    record ModeResult(double firstRequestMs, double coldReplaceMs, double rssIdleMb, double rssLoadedMb,
                      long processes, LoadDriver.Result load, double standbyReplaceMs,
                      LoadDriver.Result crashLoad, LoadDriver.Result restartLoad) {
    }

    private ModeResult measure(boolean processMode) throws IOException, TimeoutException, InterruptedException {
        String mode = processMode ? "process" : "isolate";
        double firstRequestMs;
        double coldReplaceMs;
        progress(mode, "start without standby, first request, cold replacement");
        try (RuntimeRun run = RuntimeRun.start(config, processMode, 0)) {
            int port = run.awaitPort(START_TIMEOUT);
            long served = firstServed(port, System.nanoTime() + START_TIMEOUT.toNanos());
            firstRequestMs = millis(served - run.startedNanos());
            run.await(0, l -> l.startsWith("forkless ready:"), "forkless ready", START_TIMEOUT);
            coldReplaceMs = replaceAfterCrash(run, port, "event=ready");
        }
        progress(mode, "start with one standby, memory, load");
        try (RuntimeRun run = RuntimeRun.start(config, processMode, 1)) {
            int port = run.awaitPort(START_TIMEOUT);
            run.await(0, l -> l.startsWith("forkless ready:"), "forkless ready", START_TIMEOUT);
            awaitReadyCount(run, config.copies() + 1);
            Thread.sleep(1000);
            double rssIdle = run.residentSetBytes() / 1048576.0;
            long processes = run.processCount();
            progress(mode, "warm-up " + config.warmup().toSeconds() + " s, then load " + config.duration().toMillis()
                    + " ms with " + config.connections() + " connections");
            LoadDriver.run(port, config.path(), config.connections(), config.warmup());
            LoadDriver.Result load = LoadDriver.run(port, config.path(), config.connections(), config.duration());
            double rssLoaded = run.residentSetBytes() / 1048576.0;

            progress(mode, "crash replaced by the standby");
            int before = run.mark();
            double standbyReplaceMs = replaceAfterCrash(run, port, "event=promoted");
            awaitWhole(run, run.await(before, l -> l.contains("event=crashed"), "event=crashed", EVENT_TIMEOUT));

            progress(mode, "crash under load");
            LoadDriver driver = LoadDriver.start(port, config.path(), config.connections());
            Thread.sleep(500);
            int mark = run.mark();
            inject(port, config.crashPath());
            int crashed = run.await(mark, l -> l.contains("event=crashed"), "event=crashed", EVENT_TIMEOUT);
            awaitWhole(run, crashed);
            Thread.sleep(500);
            LoadDriver.Result crashLoad = driver.stop();

            progress(mode, "every copy restarted in turn under load");
            driver = LoadDriver.start(port, config.path(), config.connections());
            Thread.sleep(500);
            for (int i = 0; i < config.copies(); i++) {
                mark = run.mark();
                inject(port, config.exitPath());
                int exited = run.await(mark, l -> l.contains("event=exited") || l.contains("event=crashed"),
                        "event=exited", EVENT_TIMEOUT);
                awaitWhole(run, exited);
            }
            Thread.sleep(500);
            LoadDriver.Result restartLoad = driver.stop();
            progress(mode, "stopping");
            return new ModeResult(firstRequestMs, coldReplaceMs, rssIdle, rssLoaded, processes, load,
                    standbyReplaceMs, crashLoad, restartLoad);
        }
    }

    /** Crashes the copy that serves one request; returns ms until a request is served after its replacement. */
    private double replaceAfterCrash(RuntimeRun run, int port, String replacement)
            throws IOException, TimeoutException, InterruptedException {
        int mark = run.mark();
        inject(port, config.crashPath());
        long injected = System.nanoTime();
        int crashed = run.await(mark, l -> l.contains("event=crashed"), "event=crashed", EVENT_TIMEOUT);
        run.await(crashed, l -> l.contains(replacement), replacement, EVENT_TIMEOUT);
        long served = firstServed(port, System.nanoTime() + EVENT_TIMEOUT.toNanos());
        return millis(served - injected);
    }

    /** Waits until a replacement took the place of the copy that ended at event {@code from}, and a standby is warm again. */
    private void awaitWhole(RuntimeRun run, int from) throws TimeoutException, InterruptedException {
        int replaced = run.await(from, l -> l.contains("event=promoted") || l.contains("event=ready"),
                "event=promoted", EVENT_TIMEOUT);
        run.await(replaced + 1, l -> l.contains("event=ready"), "event=ready", EVENT_TIMEOUT);
    }

    private static void awaitReadyCount(RuntimeRun run, int count) throws TimeoutException, InterruptedException {
        int from = 0;
        for (int i = 0; i < count; i++) {
            from = run.await(from, l -> l.contains("event=ready"), "event=ready", START_TIMEOUT) + 1;
        }
    }

    private void inject(int port, String path) throws IOException {
        LoadDriver.Response response = LoadDriver.get(port, path, 10_000);
        if (response.status() / 100 != 2) {
            throw new IllegalStateException(path + " answered " + response.status()
                    + ": --compare needs --crash-path and --exit-path endpoints that crash or exit the copy serving them");
        }
    }

    /** Sends requests, one at a time, until one is answered with 2xx; returns when ({@link System#nanoTime()}). */
    private long firstServed(int port, long deadline) throws TimeoutException, InterruptedException {
        while (System.nanoTime() < deadline) {
            try {
                if (LoadDriver.get(port, config.path(), 5_000).status() / 100 == 2) {
                    return System.nanoTime();
                }
            } catch (IOException notYet) {
                // refused or reset: not serving yet
            }
            Thread.sleep(2);
        }
        throw new TimeoutException("no request to " + config.path() + " was served");
    }

    private static double millis(long nanos) {
        return nanos / 1e6;
    }
}
