package dev.forkless.runtime.cli;

import dev.forkless.runtime.compare.Compare;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

import picocli.CommandLine.Option;

/** The options of {@code --compare}: the app run both ways, one after the other, measured. */
final class CompareOptions {

    @Option(names = "--compare", required = true,
            description = "Run the app as isolates, then as processes, and print (and write) a side-by-side report.")
    boolean compare;

    @Option(names = "--duration", paramLabel = "DURATION", defaultValue = "20s",
            description = "How long the load is measured, after a warm-up of the same length up to 15 s (default: ${DEFAULT-VALUE}).")
    String duration;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "16",
            description = "Concurrent keep-alive connections of the closed-loop load (default: ${DEFAULT-VALUE}).")
    String connections;

    @Option(names = "--path", paramLabel = "PATH", defaultValue = "/",
            description = "The path the load requests (default: ${DEFAULT-VALUE}).")
    String path;

    @Option(names = "--crash-path", paramLabel = "PATH", defaultValue = "/crash",
            description = "The app's path that crashes the copy serving it (default: ${DEFAULT-VALUE}).")
    String crashPath;

    @Option(names = "--exit-path", paramLabel = "PATH", defaultValue = "/exit",
            description = "The app's path that makes the copy serving it exit (default: ${DEFAULT-VALUE}).")
    String exitPath;

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "forkless-report",
            description = "Where compare.json and compare.md are written (default: ${DEFAULT-VALUE}).")
    Path report;

    int run(Main main, PrintStream err) {
        Compare.Config config;
        try {
            int copies = Main.parseCopies(main.isolates);
            Duration measure = Durations.parse(duration);
            if (measure.toMillis() < 500) {
                throw new IllegalArgumentException("--duration must be at least 500ms, not " + duration);
            }
            int conns = dev.forkless.runtime.Limit.CONNECTIONS.parseCount("--connections", connections);
            for (String p : new String[] {path, crashPath, exitPath}) {
                if (!p.startsWith("/")) {
                    throw new IllegalArgumentException("paths must start with /, not '" + p + "'");
                }
            }
            Path jar = main.app.toAbsolutePath();
            if (!java.nio.file.Files.isRegularFile(jar)) {
                throw new IllegalArgumentException("no such file: " + main.app);
            }
            config = new Compare.Config(jar, main.appArgs, copies, Durations.parse(main.drainTimeout), main.jvmArgs,
                    measure, conns, path, crashPath, exitPath, report.toAbsolutePath());
        } catch (IllegalArgumentException e) {
            err.println("forkless: " + e.getMessage());
            return 2;
        }
        return new Compare(config, System.out, err).run();
    }
}
