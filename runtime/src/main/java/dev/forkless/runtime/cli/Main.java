package dev.forkless.runtime.cli;

import dev.forkless.api.Worker;
import dev.forkless.isolate.BadAppException;
import dev.forkless.runtime.EventLog;
import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.ForklessException;
import dev.forkless.runtime.RestartPolicy;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar runtime.jar [options] app.jar [app args...]}: runs the app as supervised copies
 * sharing its ports.
 */
@Command(name = "forkless", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        subcommands = StartupCommand.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Runs N copies of a Java app in one JVM, each in its own isolate, all serving the app's "
                + "ports through one shared socket, supervised: a copy that crashes is replaced at once.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped (SIGTERM, SIGINT)", "1:every copy errored", "2:bad input"},
        footerHeading = "%nSignals:%n",
        footer = {"SIGTERM, SIGINT  stop: stop accepting, drain every copy, exit 0 (a second SIGINT exits at once)",
                "SIGHUP           rolling reload: replace every copy, one at a time, without failed requests"})
public final class Main implements Callable<Integer> {

    @Option(names = {"-i", "--isolates"}, paramLabel = "N|max", defaultValue = "max",
            description = "Serving copies: a number, or max for one per available processor (default: ${DEFAULT-VALUE}).")
    String isolates;

    @Option(names = "--standby", paramLabel = "N", defaultValue = "1",
            description = "Warm standby copies that take over a failed copy's place at once (default: ${DEFAULT-VALUE}).")
    String standby;

    @Option(names = "--ready-timeout", paramLabel = "DURATION", defaultValue = "3s",
            description = "How long a copy started by a reload or restart gets to become ready before the "
                    + "operation is aborted (default: ${DEFAULT-VALUE}).")
    String readyTimeout;

    @Option(names = "--min-uptime", paramLabel = "DURATION", defaultValue = "1s",
            description = "A copy that ends sooner is an unstable restart (default: ${DEFAULT-VALUE}).")
    String minUptime;

    @Option(names = "--max-restarts", paramLabel = "N", defaultValue = "16",
            description = "More unstable restarts in a row than this mark a slot errored (default: ${DEFAULT-VALUE}).")
    String maxRestarts;

    @Option(names = "--restart-delay", paramLabel = "DURATION", defaultValue = "100ms",
            description = "First delay before restarting a slot; each further one x1.5 (default: ${DEFAULT-VALUE}).")
    String restartDelay;

    @Option(names = "--max-restart-delay", paramLabel = "DURATION", defaultValue = "15s",
            description = "Longest delay between restarts of a slot (default: ${DEFAULT-VALUE}).")
    String maxRestartDelay;

    @Option(names = "--watch", description = "Reload, without downtime, when the app's jars change.")
    boolean watch;

    @Option(names = "--watch-delay", paramLabel = "DURATION", defaultValue = "1s",
            description = "Quiet time after a change before --watch reloads (default: ${DEFAULT-VALUE}).")
    String watchDelay;

    @Option(names = "--hang-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "A copy with a request in flight (or its acceptor stuck) this long is hung: replaced "
                    + "and drained; 0 turns the watchdog off (default: ${DEFAULT-VALUE}).")
    String hangTimeout;

    @Option(names = "--loop-checks", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Insert a cancellation check into the app's loops, so an unloaded copy's threads end "
                    + "(default: on; --no-loop-checks to leave the app's code as it is).")
    boolean loopChecks;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "5s",
            description = "How long a stopping copy's open connections get before they are closed (default: ${DEFAULT-VALUE}).")
    String drainTimeout;

    @Option(names = "--mode", paramLabel = "isolate|process", defaultValue = "isolate",
            description = "How copies run: isolates in this JVM, or child JVMs sharing the same socket (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--jvm-arg", paramLabel = "ARG",
            description = "An option for each child JVM in process mode (repeatable), e.g. --jvm-arg=-Xmx256m.")
    List<String> jvmArgs = new ArrayList<>();

    @Option(names = "--shared-state", paramLabel = "FILE",
            description = "Keep the shared state (SharedState in the app) in this file: read at start, every change "
                    + "written ahead and forced to disk before it is acknowledged.")
    Path sharedState;

    @Option(names = "--inbox", paramLabel = "N", defaultValue = "1024",
            description = "Messages each copy's inbox (and the runtime's) holds at most (default: ${DEFAULT-VALUE}).")
    String inbox;

    @Option(names = "--inbox-full", paramLabel = "block|drop", defaultValue = "block",
            description = "When an inbox is full: the sender waits for room (up to 5 s), or the message is dropped "
                    + "and counted (default: ${DEFAULT-VALUE}).")
    String inboxFull;

    @CommandLine.ArgGroup(exclusive = false, heading = "%nComparing the two modes:%n")
    CompareOptions compare;

    @Parameters(index = "0", arity = "0..1", paramLabel = "APP.jar", description = "The app: a jar with a Main-Class.")
    Path app;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "The app's own arguments.")
    List<String> appArgs = new ArrayList<>();

    private final PrintStream err;

    Main(PrintStream err) {
        this.err = err;
    }

    /**
     * Runs the CLI and exits the JVM with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    /** Runs the CLI; returns the exit code. */
    static int run(String[] args, PrintStream err) {
        CommandLine cmd = new CommandLine(new Main(err));
        cmd.setStopAtPositional(true);
        cmd.setErr(new java.io.PrintWriter(err, true));
        cmd.setParameterExceptionHandler((e, argv) -> {
            err.println("forkless: " + e.getMessage() + " (see --help)");
            return 2;
        });
        return cmd.execute(args);
    }

    @Override
    public Integer call() {
        if (compare != null && compare.compare) {
            return compare.run(this, err);
        }
        if (app == null) {
            err.println("forkless: Missing required parameter: 'APP.jar' (see --help)");
            return 2;
        }
        Forkless forkless;
        int copies;
        Worker.Mode copyMode;
        EventLog log = new EventLog(err, true).hold();
        try {
            copies = parseCopies(isolates);
            int standbys = parseCount("--standby", standby, 0);
            Duration drain = Durations.parse(drainTimeout);
            copyMode = parseMode(mode);
            RestartPolicy policy = RestartPolicy.DEFAULT
                    .withDrainTimeout(drain)
                    .withCrashLoopGuard(Durations.parse(minUptime), parseCount("--max-restarts", maxRestarts, 0))
                    .withBackoff(Durations.parse(restartDelay), 1.5, Durations.parse(maxRestartDelay));
            Forkless.Builder builder = Forkless.builder()
                    .app(app)
                    .args(appArgs)
                    .copies(copies)
                    .standby(standbys)
                    .restartPolicy(policy)
                    .readyTimeout(Durations.parse(readyTimeout))
                    .loopChecks(loopChecks)
                    .hangTimeout(hangTimeout.trim().equals("0") ? Duration.ZERO : Durations.parse(hangTimeout))
                    .mode(copyMode)
                    .jvmArgs(jvmArgs)
                    .listener(log);
            builder.inbox(parseCount("--inbox", inbox, 1), parseOverflow(inboxFull));
            if (sharedState != null) {
                builder.sharedStateFile(sharedState);
            }
            if (watch) {
                builder.watch(Durations.parse(watchDelay));
            }
            forkless = builder.build();
        } catch (BadAppException | IllegalArgumentException e) {
            err.println("forkless: " + e.getMessage());
            return 2;
        }
        Signals.onStop(forkless);
        try {
            forkless.start();
        } catch (ForklessException e) {
            log.release(e.exitCode() != 2);
            err.println("forkless: " + e.getMessage());
            return e.exitCode();
        }
        log.release(true);
        String noun = copyMode == Worker.Mode.PROCESS ? " process" + (copies == 1 ? "" : "es")
                : " isolate" + (copies == 1 ? "" : "s");
        err.println("forkless ready: " + copies + noun + " serving "
                + forkless.addresses().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
        return forkless.awaitTermination();
    }

    static Worker.Mode parseMode(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "isolate" -> Worker.Mode.ISOLATE;
            case "process" -> Worker.Mode.PROCESS;
            default -> throw new IllegalArgumentException("--mode takes isolate or process, not '" + value + "'");
        };
    }

    static dev.forkless.runtime.Overflow parseOverflow(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "block" -> dev.forkless.runtime.Overflow.BLOCK;
            case "drop" -> dev.forkless.runtime.Overflow.DROP;
            default -> throw new IllegalArgumentException("--inbox-full takes block or drop, not '" + value + "'");
        };
    }

    static int parseCopies(String value) {
        if (value.equalsIgnoreCase("max")) {
            return Runtime.getRuntime().availableProcessors();
        }
        return parseCount("--isolates", value, 1);
    }

    static int parseCount(String option, String value, int min) {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a whole number" + (option.equals("--isolates")
                    ? " or max" : "") + ", not '" + value + "'");
        }
        if (n < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + ", not " + n);
        }
        return n;
    }

    /** The version from runtime.jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"forkless " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }

    /** SIGTERM and SIGINT stop the runtime gracefully; a second SIGINT exits at once. */
    static final class Signals {

        private Signals() {
        }

        static void onStop(Forkless forkless) {
            AtomicInteger interrupts = new AtomicInteger();
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> forkless.stopAsync("SIGTERM"));
                sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> forkless.reload("SIGHUP"));
                sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> {
                    if (interrupts.incrementAndGet() > 1) {
                        Runtime.getRuntime().halt(130);
                    }
                    forkless.stopAsync("SIGINT");
                });
            } catch (IllegalArgumentException unsupported) {
                // no such signal on this platform: the JVM's default handling stays
            }
        }
    }
}
