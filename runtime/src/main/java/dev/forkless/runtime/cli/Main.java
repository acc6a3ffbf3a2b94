package dev.forkless.runtime.cli;

import dev.forkless.isolate.BadAppException;
import dev.forkless.runtime.EventLog;
import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.ForklessException;

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
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Runs N copies of a Java app in one JVM, each in its own isolate, all serving the app's "
                + "ports through one shared socket, supervised: a copy that crashes is replaced at once.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped (SIGTERM, SIGINT)", "1:every copy errored", "2:bad input"})
public final class Main implements Callable<Integer> {

    @Option(names = {"-i", "--isolates"}, paramLabel = "N|max", defaultValue = "max",
            description = "Serving copies: a number, or max for one per available processor (default: ${DEFAULT-VALUE}).")
    String isolates;

    @Option(names = "--standby", paramLabel = "N", defaultValue = "1",
            description = "Warm standby copies that take over a failed copy's place at once (default: ${DEFAULT-VALUE}).")
    String standby;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", defaultValue = "5s",
            description = "How long a stopping copy's open connections get before they are closed (default: ${DEFAULT-VALUE}).")
    String drainTimeout;

    @Parameters(index = "0", paramLabel = "APP.jar", description = "The app: a jar with a Main-Class.")
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
        Forkless forkless;
        int copies;
        EventLog log = new EventLog(err, true).hold();
        try {
            copies = parseCopies(isolates);
            int standbys = parseCount("--standby", standby, 0);
            Duration drain = Durations.parse(drainTimeout);
            forkless = Forkless.builder()
                    .app(app)
                    .args(appArgs)
                    .copies(copies)
                    .standby(standbys)
                    .drainTimeout(drain)
                    .listener(log)
                    .build();
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
        err.println("forkless ready: " + copies + " isolate" + (copies == 1 ? "" : "s") + " serving "
                + forkless.addresses().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
        return forkless.awaitTermination();
    }

    static int parseCopies(String value) {
        if (value.equalsIgnoreCase("max")) {
            return Runtime.getRuntime().availableProcessors();
        }
        return parseCount("--isolates", value, 1);
    }

    private static int parseCount(String option, String value, int min) {
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
