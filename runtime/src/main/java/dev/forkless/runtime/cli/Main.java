package dev.forkless.runtime.cli;

import dev.forkless.runtime.Mode;
import dev.forkless.runtime.log.EventLog;
import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.CronSchedule;
import dev.forkless.runtime.ForklessConfig;
import dev.forkless.runtime.ForklessException;
import dev.forkless.runtime.listen.Handover;
import dev.forkless.runtime.Limit;
import dev.forkless.runtime.log.LogSettings;
import dev.forkless.runtime.RestartPolicy;
import dev.forkless.runtime.RuntimeSettings;
import dev.forkless.runtime.admin.AdminAddress;
import dev.forkless.runtime.admin.AdminServer;
import dev.forkless.runtime.registry.ForklessHome;
import dev.forkless.runtime.registry.Registration;
import dev.forkless.runtime.registry.RegistryEntry;
import dev.forkless.runtime.registry.RuntimeRegistry;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar runtime.jar [options] app.jar [app args...]}: runs the app as supervised copies
 * sharing its ports, with an admin API on {@code --admin}.
 * {@code java -jar runtime.jar list|reload|scale N|restart ID|stop|monit}: talks to a running one
 * ({@link ClientCommands}); a command name is one only as the first argument.
 */
@Command(name = "forkless", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        defaultValueProvider = Main.Defaults.class,
        subcommands = {StartupCommand.class, LogsCommand.class},
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Runs N copies of a Java app in one JVM, each in its own isolate, all serving the app's "
                + "ports through one shared socket, supervised: a copy that crashes is replaced at once.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped (SIGTERM, SIGINT, stop)", "1:every copy errored", "2:bad input"},
        synopsisSubcommandLabel = "[start | ls | list | describe | reload | scale N | restart ID | stop | upgrade | monit | logs | startup]",
        commandListHeading = "%nCommands for a running runtime (exit 0 done, 1 refused or failed, 2 bad usage, "
                + "3 no runtime reachable):%n",
        footerHeading = "%nSignals:%n",
        footer = {"SIGTERM, SIGINT  stop: stop accepting, drain every copy, exit 0 (a second SIGINT exits at once)",
                "SIGHUP           rolling reload: replace every copy, one at a time, without failed requests"})
public final class Main implements Callable<Integer> {

    @Option(names = "--name", paramLabel = "NAME",
            description = "The app's name in list, logs, the log files and the commands (default: the jar's "
                    + "name without .jar).")
    String name;

    @Option(names = {"-i", "--isolates"}, paramLabel = "N|max",
            description = "Serving copies: a number, or max for one per available processor (default: ${DEFAULT-VALUE}).")
    String isolates;

    @Option(names = "--standby", paramLabel = "N",
            description = "Warm standby copies that take over a failed copy's place at once (default: ${DEFAULT-VALUE}).")
    String standby;

    @Option(names = "--ready-timeout", paramLabel = "DURATION",
            description = "A copy started by a reload, restart or scale that is still starting after this "
                    + "long is slow, not failed: it is logged once (event=slow-start) and waited for up to 10 "
                    + "times this in all, the old copies serving meanwhile, before the operation aborts; a copy "
                    + "that crashes, exits or cannot start aborts at once (default: ${DEFAULT-VALUE}).")
    String readyTimeout;

    @Option(names = "--min-uptime", paramLabel = "DURATION",
            description = "A copy that ends sooner is an unstable restart (default: ${DEFAULT-VALUE}).")
    String minUptime;

    @Option(names = "--max-restarts", paramLabel = "N",
            description = "More unstable restarts in a row than this mark a slot errored (default: ${DEFAULT-VALUE}).")
    String maxRestarts;

    @Option(names = "--restart-delay", paramLabel = "DURATION",
            description = "First delay before restarting a slot; each further one x" + RestartPolicy.DEFAULT_MULTIPLIER + " (default: ${DEFAULT-VALUE}).")
    String restartDelay;

    @Option(names = "--max-restart-delay", paramLabel = "DURATION",
            description = "Longest delay between restarts of a slot (default: ${DEFAULT-VALUE}).")
    String maxRestartDelay;

    @Option(names = "--restart-backoff", paramLabel = "exponential|fixed",
            description = "How the delay before a slot's restarts grows: exponential (from --restart-delay up to "
                    + "--max-restart-delay), or fixed (every restart waits --restart-delay) (default: ${DEFAULT-VALUE}).")
    String restartBackoff;

    @Option(names = "--autorestart", negatable = true, fallbackValue = "true",
            description = "Replace a copy that crashes or exits (default: on). --no-autorestart: its slot stays "
                    + "stopped; once no copy serves, the runtime stops.")
    boolean autorestart;

    @Option(names = "--stop-exit-codes", paramLabel = "N,N", split = ",",
            description = "Exit statuses after which a copy is not replaced: its slot stays stopped (e.g. 0,3).")
    List<String> stopExitCodes = new ArrayList<>();

    @Option(names = "--watch", negatable = true,
            description = "Reload, without downtime, when the app's jars change.")
    boolean watch;

    @Option(names = "--watch-delay", paramLabel = "DURATION",
            description = "Quiet time after a change before --watch reloads (default: ${DEFAULT-VALUE}).")
    String watchDelay;

    @Option(names = "--cron-restart", paramLabel = "EXPR",
            description = "Reload every copy, without downtime, on this cron schedule in the machine's time zone: "
                    + "minute hour day-of-month month day-of-week (e.g. '0 3 * * *'), or six fields with seconds first.")
    String cronRestart;

    @Option(names = "--warm-up", paramLabel = "PATH",
            description = "What a standby requests of itself (GET PATH, on connections of its own) until it is "
                    + "promoted, so that a crash is answered by a copy whose request path has run; off: nothing "
                    + "(default: /).")
    String warmUp;

    @Option(names = "--metering", negatable = true, fallbackValue = "true",
            description = "Meter each isolate's CPU and memory, a JFR stream (default: on; --no-metering to save "
                    + "its cost; see docs/operations.md).")
    boolean metering;

    @Option(names = "--max-memory", paramLabel = "SIZE",
            description = "Replace, without downtime, a copy that uses more memory than this (process mode: its "
                    + "resident memory; isolate mode: when the JVM's heap after a GC passes it, the isolate that "
                    + "allocates the most). Logged as event=memory-restart. Default: no limit.")
    String maxMemory;

    @Option(names = "--hang-timeout", paramLabel = "DURATION",
            description = "A copy with a request in flight (or its acceptor stuck) this long is hung: replaced "
                    + "and drained; 0 turns the watchdog off (default: ${DEFAULT-VALUE}).")
    String hangTimeout;

    @Option(names = "--escalate",
            description = "After a copy leaks threads that cannot be stopped, run copies as processes (a rolling "
                    + "reload); if this JVM then keeps burning CPU, hand the sockets to a fresh runtime JVM and exit.")
    boolean escalate;

    @Option(names = "--escalate-window", paramLabel = "DURATION",
            description = "How long --escalate watches this JVM's CPU use before handing over (default: ${DEFAULT-VALUE}).")
    String escalateWindow;

    @Option(names = Handover.TAKE_OVER, hidden = true, paramLabel = "PATH",
            description = "Take another runtime's listening sockets from this Unix socket (a handover).")
    String takeOver;

    @Option(names = "--loop-checks", negatable = true, fallbackValue = "true",
            description = "Insert a cancellation check into the app's loops, so an unloaded copy's threads end "
                    + "(default: on; --no-loop-checks to leave the app's code as it is).")
    boolean loopChecks;

    @Option(names = "--drain-timeout", paramLabel = "DURATION",
            description = "How long a stopping copy's open connections get before they are closed (default: ${DEFAULT-VALUE}).")
    String drainTimeout;

    @Option(names = "--kill-timeout", paramLabel = "DURATION",
            description = "How long a stopping copy's shutdown hooks and threads get to end once it has drained, as PM2's "
                    + "kill_timeout: then a child JVM is killed, and an isolate's threads still running are reported as "
                    + "leftoverThreads (default: ${DEFAULT-VALUE}).")
    String killTimeout;

    @Option(names = "--mode", paramLabel = "isolate|process",
            description = "How copies run: isolates in this JVM, or child JVMs sharing the same socket (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--jvm-arg", paramLabel = "ARG",
            description = "An option for each child JVM in process mode (repeatable), e.g. --jvm-arg=-Xmx256m.")
    List<String> jvmArgs = new ArrayList<>();

    @Option(names = "--admin", paramLabel = "HOST:PORT|off",
            description = "Where the admin API, metrics, health checks and dashboard listen, or off "
                    + "(default: " + AdminAddress.DEFAULT + ", or the next free port when that is taken, as by another "
                    + "runtime; an address given here that is taken is an error).")
    String admin;

    @Option(names = "--admin-token", paramLabel = "TOKEN",
            description = "The bearer token of admin requests, 16 characters or more (default: a random one, "
                    + "written to ~/.forkless/admin-PORT.token, readable only by you). Needed to bind beyond loopback.")
    String adminToken;

    @Option(names = "--admin-open-probes", negatable = true,
            description = "Let anyone read the health checks and /metrics without the token (for Kubernetes "
                    + "probes and Prometheus on an admin bound beyond loopback).")
    boolean adminOpenProbes;

    @Option(names = "--pid-file", paramLabel = "FILE",
            description = "Write the runtime's pid to FILE when it starts, and remove it when it exits; a runtime "
                    + "that takes over (forkless upgrade) writes its own pid there before the old one exits.")
    Path pidFile;

    @Option(names = "--console-escapes", negatable = true,
            description = "Let the copies' escape sequences (colours) reach the console as they are (default: "
                    + "off: shown as \\e, so no copy can redraw the operator's terminal).")
    boolean consoleEscapes;

    @Option(names = "--logs", paramLabel = "DIR",
            description = "Also write each copy's output to files in DIR (<app>-<id>-out.log, <app>-<id>-err.log), "
                    + "and the runtime's events to <app>-events.log.")
    Path logs;

    @Option(names = "--merge-logs", negatable = true,
            description = "One log file, <app>.log, for all copies; each line tagged with its copy.")
    boolean mergeLogs;

    @Option(names = "--log-format", paramLabel = "text|json",
            description = "Log file lines as written, or JSON lines with time, worker, stream, message (default: ${DEFAULT-VALUE}).")
    String logFormat;

    @Option(names = "--log-date-format", paramLabel = "PATTERN",
            description = "Time of each log line, as a java.time pattern such as 'yyyy-MM-dd HH:mm:ss.SSS' "
                    + "(default: none in text lines, ISO-8601 in JSON lines and events).")
    String logDateFormat;

    @Option(names = "--log-max-size", paramLabel = "SIZE",
            description = "Size at which a log file is rotated (default: ${DEFAULT-VALUE}).")
    String logMaxSize;

    @Option(names = "--log-keep", paramLabel = "N",
            description = "Files kept per log, the live one included (default: ${DEFAULT-VALUE}).")
    String logKeep;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Settings from a YAML or JSON file (keys in docs/configuration.md); flags override it.")
    Path config;

    @Option(names = "--env", paramLabel = "NAME",
            description = "Lay the config file's env_NAME block over its env block, for the app's environment.")
    String environmentName;

    @Option(names = "--shared-state", paramLabel = "FILE",
            description = "Keep the shared state (SharedState in the app) in this file: read at start, every change "
                    + "written ahead and forced to disk before it is acknowledged.")
    Path sharedState;

    @Option(names = "--inbox", paramLabel = "N",
            description = "Messages each copy's inbox (and the runtime's) holds at most (default: ${DEFAULT-VALUE}).")
    String inbox;

    @Option(names = "--inbox-full", paramLabel = "block|drop",
            description = "When an inbox is full: the sender waits for room (up to 5 s), or the message is dropped "
                    + "and counted (default: ${DEFAULT-VALUE}).")
    String inboxFull;

    @CommandLine.ArgGroup(exclusive = false, heading = "%nComparing the two modes:%n")
    CompareOptions compare;

    @Parameters(index = "0", arity = "0..1", paramLabel = "APP.jar",
            description = "The app: a jar with a Main-Class (or app in --config).")
    Path app;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "The app's own arguments.")
    List<String> appArgs = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream err;
    private Map<String, String> environment = Map.of();
    /** The apps of the config file's {@code apps} list; empty: one app, from the command line or the file. */
    private List<ConfigFile.App> appsInFile = List.of();

    /** The command line as given: a handover starts the next runtime with it. */
    private final List<String> originalArgs;

    Main(PrintStream err) {
        this(err, List.of());
    }

    Main(PrintStream err, List<String> originalArgs) {
        this.err = err;
        this.originalArgs = List.copyOf(originalArgs);
    }

    /**
     * Runs the CLI and exits the JVM with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the CLI; returns the exit code. */
    static int run(String[] args, PrintStream err) {
        return run(args, System.out, err);
    }

    /** Runs the CLI; returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cmd = new CommandLine(new Main(err, List.of(args)));
        cmd.setStopAtPositional(true); // the app's own arguments follow APP.jar; set before the client commands,
        for (Object command : ClientCommands.all(out, err)) { // which take options after their parameters
            cmd.addSubcommand(command);
        }
        cmd.getSubcommands().get("logs").setStopAtPositional(false); // logs APP -n 5: options after the app too
        cmd.getSubcommands().get("start").setUnmatchedOptionsArePositionalParams(true) // start [runtime options]
                .setStopAtPositional(true); // APP.jar [ARGS]: the runtime's, as given
        cmd.setOut(new java.io.PrintWriter(out, true));
        cmd.setErr(new java.io.PrintWriter(err, true));
        cmd.setParameterExceptionHandler((e, argv) -> {
            err.println("forkless: " + dev.forkless.runtime.log.TerminalText.clean(String.valueOf(e.getMessage()), false)
                    + " (see --help)");
            return 2;
        });
        return cmd.execute(args);
    }

    @Override
    public Integer call() {
        try {
            applyConfig();
        } catch (IllegalArgumentException e) {
            err.println("forkless: " + dev.forkless.runtime.log.TerminalText.clean(String.valueOf(e.getMessage()), false));
            return 2;
        }
        if (app == null && appsInFile.isEmpty()) {
            err.println("forkless: Missing required parameter: 'APP.jar' (give it, or app in --config) (see --help)");
            return 2;
        }
        if (!appsInFile.isEmpty()) {
            return new SeveralApps(this, err).run();
        }
        if (compare != null && compare.compare) {
            return compare.run(this, err);
        }
        Forkless forkless;
        int copies;
        Mode copyMode;
        AdminServer.Builder adminBuilder = null;
        EventLog log = new EventLog(err, true).hold();
        try {
            ForklessConfig settings = settings();
            copies = settings.copies();
            copyMode = settings.mode();
            Forkless.Builder builder = Forkless.builder()
                    .app(app)
                    .args(appArgs)
                    .config(settings)
                    .fixedSettings(fixedSettings())
                    .listener(log);
            if (name != null) {
                builder.name(name.trim());
            }
            forkless = builder.build();
            if (admin == null || !admin.trim().equalsIgnoreCase("off")) {
                adminBuilder = AdminServer.builder()
                        .forkless(forkless)
                        .address(AdminAddress.parse(admin == null ? AdminAddress.DEFAULT : admin))
                        .nextFreePort(admin == null)
                        .openProbes(adminOpenProbes)
                        .settings(this::reread)
                        .warnings(w -> err.println("forkless: warning: " + w));
                if (adminToken != null) {
                    adminBuilder.token(adminToken);
                }
                adminBuilder.build(); // refuses an address beyond loopback without a token, before anything starts
            }
        } catch (ForklessException e) { // no app it can run
            err.println("forkless: " + dev.forkless.runtime.log.TerminalText.clean(String.valueOf(e.getMessage()), false));
            return e.exitCode();
        } catch (IllegalArgumentException e) {
            err.println("forkless: " + dev.forkless.runtime.log.TerminalText.clean(String.valueOf(e.getMessage()), false));
            return 2;
        }
        Service service = service();
        AdminServer.Builder admins = adminBuilder;
        AdminAddress adminAddress = admins == null ? null
                : AdminAddress.parse(admin == null ? AdminAddress.DEFAULT : admin);
        java.util.concurrent.atomic.AtomicReference<AdminServer> adminRef = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Registration> registrationRef = new java.util.concurrent.atomic.AtomicReference<>();
        Upgrade upgrade = new Upgrade(List.of(forkless),
                (path, target, toProcess) -> nextRuntimeCommand(path, target, toProcess
                        || forkless.mode() == Mode.PROCESS && copyMode != Mode.PROCESS),
                this::checkSettingsAgain, adminRef, (port, token) -> restartAdmin(admins, adminAddress, port, token),
                registrationRef, service, err);
        if (adminBuilder != null) {
            adminBuilder.upgrader(upgrade);
        }
        Signals.onStop(forkless::stopAsync, trigger -> {
            service.reloading();
            forkless.reload(trigger).whenComplete((result, e) -> service.reloaded(readyStatus(List.of(forkless))));
        });
        forkless.addListener(event -> {
            if (event instanceof ForklessEvent.Stopping) {
                service.stopping();
            }
        });
        Handover.Taken taken = null;
        if (takeOver != null) {
            try {
                taken = Forkless.takeOver(List.of(forkless), takeOver);
            } catch (java.io.IOException e) {
                err.println("forkless: cannot take over the sockets of " + takeOver + ": " + e.getMessage());
                return 1;
            }
        } else {
            try {
                service.starting();
            } catch (IllegalArgumentException e) {
                err.println("forkless: " + dev.forkless.runtime.log.TerminalText.clean(String.valueOf(e.getMessage()), false));
                return 2;
            }
        }
        forkless.addListener(event -> {
            if (event instanceof ForklessEvent.CpuLeak) {
                Thread.ofPlatform().daemon(true).name("forkless-handover").start(upgrade::escalate);
            }
        });
        try {
            forkless.start();
        } catch (ForklessException e) {
            log.release(e.exitCode() != 2);
            err.println("forkless: " + dev.forkless.runtime.log.TerminalText.clean(String.valueOf(e.getMessage()), false));
            service.exited();
            return e.exitCode();
        }
        log.release(true);
        if (taken != null) {
            if (adminBuilder != null) {
                AdminServer.prepare(); // the admin address goes without a server for less time
            }
            try {
                taken.started(HANDOVER_STEP);
            } catch (java.io.IOException e) {
                err.println("forkless: cannot take over from the old runtime: " + e.getMessage() + "; it serves on");
                taken.abandon();
                forkless.stopAsync("the handover failed").join();
                return 1;
            }
            inherit(adminBuilder, taken);
        }
        AdminServer adminServer = null;
        if (adminBuilder != null) {
            try {
                adminServer = adminBuilder.build().start();
                adminRef.set(adminServer);
                err.println("forkless event=admin url=" + adminServer.url() + "/"
                        + adminServer.tokenFile().map(f -> " token-file=" + f).orElse(""));
                warnIfMoved(taken, adminServer);
            } catch (ForklessException e) {
                if (admin != null) {
                    err.println("forkless: " + dev.forkless.runtime.log.TerminalText.clean(String.valueOf(e.getMessage()), false));
                    forkless.stopAsync("the admin API cannot start").join();
                    service.exited();
                    return 2;
                }
                err.println("forkless: warning: " + e.getMessage() + "; the admin API is off (choose its address "
                        + "with --admin HOST:PORT)");
            }
        }
        String noun = copyMode == Mode.PROCESS ? " process" + (copies == 1 ? "" : "es")
                : " isolate" + (copies == 1 ? "" : "s");
        err.println("forkless ready: " + copies + noun + " serving "
                + forkless.addresses().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
        registrationRef.set(register(forkless, copies, copyMode, adminServer));
        service.serving(readyStatus(List.of(forkless)), taken);
        int code;
        try {
            code = forkless.awaitTermination();
        } finally {
            Registration registration = registrationRef.getAndSet(null);
            if (registration != null) {
                registration.close();
            }
            service.exited();
        }
        AdminServer running = adminRef.get();
        if (running != null) {
            running.close();
        }
        return code;
    }

    /** How long a runtime that takes over waits for the old one to let go of its admin address. */
    static final Duration HANDOVER_STEP = Duration.ofSeconds(30);

    /** @return the PID file and systemd notifications of this runtime's settings */
    Service service() {
        return new Service(pidFile == null ? null : new PidFile(pidFile),
                SystemdNotify.trackedPidFile().map(PidFile::new).orElse(null), SystemdNotify.fromEnvironment(err), err);
    }

    /** @return what systemd shows of a serving runtime ({@code STATUS=}) */
    static String readyStatus(List<Forkless> apps) {
        return apps.stream().map(f -> (apps.size() > 1 ? f.appName() + ": " : "") + f.config().copies() + " "
                + (f.mode() == Mode.PROCESS ? "process" : "isolate") + (f.config().copies() == 1 ? "" : "s") + " serving "
                + f.addresses().stream().map(a -> a.getHostString() + ":" + a.getPort()).collect(java.util.stream.Collectors.joining(",")))
                .collect(java.util.stream.Collectors.joining("; "));
    }

    /**
     * A runtime that takes over keeps the old one's admin port (for the default address: given one stays
     * as given) and its token (unless one is given), so that clients and dashboards go on.
     */
    void inherit(AdminServer.Builder adminBuilder, Handover.Taken taken) {
        if (adminBuilder == null) {
            return;
        }
        String port = taken.extras().get("admin-port");
        AdminAddress wanted = AdminAddress.parse(admin == null ? AdminAddress.DEFAULT : admin);
        if (port != null && port.matches("\\d{1,5}") && (admin == null || wanted.port() == 0)) {
            adminBuilder.address(new AdminAddress(wanted.host(), Integer.parseInt(port)));
        }
        String token = taken.extras().get("admin-token");
        if (adminToken == null && token != null) {
            try {
                adminBuilder.inheritToken(new String(java.util.HexFormat.of().parseHex(token),
                        java.nio.charset.StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                err.println("forkless: warning: the old runtime's admin token cannot be kept (" + e.getMessage()
                        + "): a new one is written");
            }
        }
    }

    /**
     * Says so when the admin port the old runtime handed over was taken in the moment it had no server (by a
     * runtime starting with the default address): the admin API is on the next free port, in the registry.
     */
    void warnIfMoved(Handover.Taken taken, AdminServer server) {
        String port = taken == null ? null : taken.extras().get("admin-port");
        if (port != null && !port.equals(String.valueOf(server.port()))) {
            err.println("forkless: warning: admin port " + port + ", handed over by the old runtime, was taken while "
                    + "it moved: the admin API is at " + server.url() + " (forkless ls)");
        }
    }

    /** The admin API again, on the port it had and with its token, after a handover that failed released it. */
    static AdminServer restartAdmin(AdminServer.Builder builder, AdminAddress address, int port,
                                    java.util.Optional<String> token) {
        if (builder == null) {
            throw new IllegalStateException("no admin API");
        }
        builder.address(new AdminAddress(address.host(), port)).nextFreePort(false);
        token.ifPresent(builder::inheritToken);
        return builder.build().start();
    }

    /**
     * Writes this runtime's entry to the registry of the machine's runtimes ({@code forkless ls}), kept
     * current after a scale; a registry that cannot be written costs a warning, not the start.
     *
     * @return the registration, or null when it could not be written
     */
    private Registration register(Forkless forkless, int copies, Mode copyMode, AdminServer adminServer) {
        RuntimeRegistry registry = RuntimeRegistry.of(ForklessHome.current());
        RegistryEntry entry = new RegistryEntry(ProcessHandle.current().pid(), RuntimeRegistry.startOfThisProcess(),
                List.of(forkless.appName()), copyMode.name().toLowerCase(java.util.Locale.ROOT), copies,
                forkless.addresses().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList(),
                java.util.Optional.ofNullable(adminServer).map(AdminServer::url),
                java.util.Optional.ofNullable(adminServer).flatMap(AdminServer::tokenFile),
                java.util.Optional.ofNullable(logs).map(p -> p.toAbsolutePath().normalize()))
                .withStartTicks(RuntimeRegistry.startTicks(ProcessHandle.current().pid()));
        Registration registration = register(registry, entry, err);
        if (registration == null) {
            return null;
        }
        java.util.concurrent.atomic.AtomicReference<RegistryEntry> current = new java.util.concurrent.atomic.AtomicReference<>(entry);
        forkless.addListener(event -> {
            if (event instanceof ForklessEvent.Scaled scaled) {
                registration.update(current.updateAndGet(e -> e.withCopies(scaled.to())));
            } else if (event instanceof ForklessEvent.Escalated) {
                registration.update(current.updateAndGet(e -> e.withMode("process")));
            }
        });
        return registration;
    }

    /** @return a Main that parsed this runtime's command line again (its config file not read yet) */
    private Main parsedAgain() {
        Main again = new Main(err, originalArgs);
        CommandLine cmd = new CommandLine(again);
        cmd.setStopAtPositional(true);
        try {
            cmd.parseArgs(originalArgs.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return again;
    }

    /**
     * Writes a runtime's entry to the registry; a failure is one warning line, and the runtime runs on.
     *
     * @return the registration, or null when it could not be written
     */
    static Registration register(RuntimeRegistry registry, RegistryEntry entry, PrintStream err) {
        try {
            return registry.register(entry);
        } catch (java.io.IOException | RuntimeException e) {
            err.println("forkless: warning: cannot register this runtime in " + registry.folder() + " ("
                    + (e instanceof java.io.IOException io ? dev.forkless.runtime.IoReason.of(io) : e.getMessage())
                    + "): forkless ls will not list it");
            return null;
        }
    }

    /**
     * The settings of one app of the config file's {@code apps} list: the command line as given (its flags
     * win for every app), then the app's keys laid over the file's top-level ones.
     *
     * @param one the app
     * @return a Main holding that app's settings
     */
    Main forApp(ConfigFile.App one) {
        Main again = parsedAgain();
        again.applyFile(one.file());
        again.name = one.name();
        // the runtime's own settings: the top level's (an app's entry cannot give them)
        again.consoleEscapes = consoleEscapes;
        again.admin = admin;
        again.adminToken = adminToken;
        again.adminOpenProbes = adminOpenProbes;
        again.pidFile = pidFile;
        return again;
    }

    /**
     * The settings of the app {@code appName} as the command line and its config file's {@code apps}
     * list give them now: for {@code reload APP --update-env} in a runtime of several apps.
     *
     * @throws IllegalArgumentException when the file is bad, or no longer lists that app
     */
    RuntimeSettings rereadApp(String appName) {
        Main again = parsedAgain();
        again.applyConfig();
        ConfigFile.App one = again.appsInFile.stream().filter(a -> a.name().equals(appName)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(config + " no longer lists the app '" + appName
                        + "': adding or removing an app needs a restart"));
        Main settings = again.forApp(one);
        return new RuntimeSettings(settings.settings(), settings.appArgs, settings.fixedSettings());
    }

    /** @return the apps of the config file's {@code apps} list */
    List<ConfigFile.App> appsInFile() {
        return appsInFile;
    }

    /** @return an app's name: its jar's file name without {@code .jar} */
    static String appName(Path jar) {
        String name = jar.getFileName().toString();
        return name.endsWith(".jar") ? name.substring(0, name.length() - 4) : name;
    }

    /**
     * The settings the options give (with {@code --config}'s, once {@link #applyConfig} has run); an option
     * not given has its default from {@link ForklessConfig#DEFAULTS} ({@link Defaults}).
     *
     * @return the settings
     * @throws IllegalArgumentException naming the option of a bad value
     */
    ForklessConfig settings() {
        Duration firstDelay = Durations.parse(Limit.RESTART_DELAY, "--restart-delay", restartDelay);
        Duration longestDelay = Durations.parse(Limit.MAX_RESTART_DELAY, "--max-restart-delay", maxRestartDelay);
        boolean fixed = parseBackoff(restartBackoff);
        if (!fixed && longestDelay.compareTo(firstDelay) < 0) {
            throw new IllegalArgumentException("--max-restart-delay (" + maxRestartDelay.trim()
                    + ") must not be shorter than --restart-delay (" + restartDelay.trim() + ")");
        }
        RestartPolicy policy = ForklessConfig.DEFAULTS.restartPolicy()
                .withDrainTimeout(Durations.parse(Limit.DRAIN_TIMEOUT, "--drain-timeout", drainTimeout))
                .withUnloadGrace(Durations.parse(Limit.DRAIN_TIMEOUT, "--kill-timeout", killTimeout))
                .withCrashLoopGuard(Durations.parse(Limit.MIN_UPTIME, "--min-uptime", minUptime),
                        Limit.MAX_RESTARTS.parseCount("--max-restarts", maxRestarts))
                .withAutorestart(autorestart)
                .withStopExitCodes(parseExitCodes(stopExitCodes));
        policy = fixed ? policy.withFixedDelay(firstDelay) : policy.withBackoff(firstDelay, longestDelay);
        return ForklessConfig.DEFAULTS
                .withCopies(parseCopies(isolates))
                .withStandby(Limit.STANDBY.parseCount("--standby", standby))
                .withMode(parseMode(mode))
                .withJvmArgs(jvmArgs)
                .withReadyTimeout(Durations.parse(Limit.READY_TIMEOUT, "--ready-timeout", readyTimeout))
                .withRestartPolicy(policy)
                .withWatch(watch, Durations.parse(Limit.WATCH_DELAY, "--watch-delay", watchDelay))
                .withHangTimeout(Durations.parse(Limit.HANG_TIMEOUT, "--hang-timeout", hangTimeout))
                .withMaxMemory(maxMemory == null ? 0 : Limit.MAX_MEMORY.parseSize("--max-memory", maxMemory))
                .withLoopChecks(loopChecks)
                .withMetering(metering)
                .withEscalate(escalate, Durations.parse(Limit.ESCALATE_WINDOW, "--escalate-window", escalateWindow))
                .withLogs(logs == null ? null : logSettings())
                .withConsoleEscapes(consoleEscapes)
                .withSharedStateFile(sharedState)
                .withInbox(Limit.INBOX.parseCount("--inbox", inbox), parseOverflow(inboxFull))
                .withEnvironment(environment)
                .withCronRestart(parseCron(cronRestart))
                .withWarmUp(parseWarmUp(warmUp));
    }

    /**
     * The settings as the command line and its config file give them now: the command line is read again,
     * and the config file it names, flags over the file as at start. For {@code reload --update-env}.
     *
     * @return the settings
     * @throws IllegalArgumentException the one-line message a start with this file would give
     */
    RuntimeSettings reread() {
        Main again = parsedAgain();
        again.applyConfig();
        if (!again.appsInFile.isEmpty()) {
            throw new IllegalArgumentException("the config file now lists apps: a runtime started with one app takes "
                    + "such a change only with a restart");
        }
        if (again.app == null) {
            throw new IllegalArgumentException("Missing required parameter: 'APP.jar' (give it, or app in --config)");
        }
        ForklessConfig config = again.settings();
        return new RuntimeSettings(config, again.appArgs, again.fixedSettings());
    }

    /**
     * Reads the command line and the config file it names again, as a runtime that takes over from this
     * one will ({@code forkless upgrade}), and checks every setting: a file that no longer parses is said
     * before a new runtime is started.
     *
     * @throws IllegalArgumentException the one-line message a start with these settings would give
     */
    void checkSettingsAgain() {
        Main again = parsedAgain();
        again.applyConfig();
        if (again.appsInFile.isEmpty()) {
            if (again.app == null) {
                throw new IllegalArgumentException("Missing required parameter: 'APP.jar' (give it, or app in --config)");
            }
            again.settings();
            return;
        }
        for (ConfigFile.App one : again.appsInFile) {
            try {
                again.forApp(one).settings();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(one.name() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * The settings outside {@link ForklessConfig}, by config file key: a reload with new settings says a
     * change of one needs a restart.
     */
    Map<String, String> fixedSettings() {
        Map<String, String> fixed = new java.util.TreeMap<>();
        fixed.put("app", app == null ? "" : app.toAbsolutePath().normalize().toString());
        fixed.put("admin", admin == null ? "" : admin.trim());
        fixed.put("adminToken", adminToken == null ? "" : Integer.toHexString(adminToken.hashCode()));
        fixed.put("adminOpenProbes", String.valueOf(adminOpenProbes));
        fixed.put("pidFile", pidFile == null ? "" : pidFile.toAbsolutePath().normalize().toString());
        return fixed;
    }

    /** @return the schedule, or null when none is given */
    static CronSchedule parseCron(String value) {
        if (value == null) {
            return null;
        }
        if (value.length() > 200) {
            throw new IllegalArgumentException("--cron-restart: a cron expression of at most 200 characters, not "
                    + value.length());
        }
        try {
            return CronSchedule.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--cron-restart: " + e.getMessage(), e);
        }
    }

    /**
     * The command line of a runtime that takes over from this one ({@link Upgrade}): the launcher and jar
     * of the target, this JVM's options (and those a handed-over runtime needs), then this runtime's own
     * command line as given, taking over from {@code path}. The settings stay as given (a config file is
     * read again, as at a start); {@code --escalate} moves copies to process mode.
     *
     * @param path        the Unix socket it takes the sockets from
     * @param target      its jar and launcher
     * @param processMode whether its copies run in process mode whatever the settings say
     */
    List<String> nextRuntimeCommand(java.nio.file.Path path, UpgradeTarget target, boolean processMode) {
        List<String> command = new ArrayList<>();
        command.add(target.java().toString());
        List<String> jvmOptions = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        command.addAll(jvmOptions);
        dev.forkless.runtime.JvmFlags.handover().stream().filter(f -> !jvmOptions.contains(f)).forEach(command::add);
        command.add("-jar");
        command.add(target.jar().toString());
        command.add(Handover.TAKE_OVER);
        command.add(path.toString());
        if (processMode) {
            command.add("--mode");
            command.add("process");
        }
        command.addAll(ownArgs(processMode));
        return command;
    }

    /**
     * This runtime's command line as given, without {@code --take-over} (the next runtime takes over from
     * this one, not from the one this one took over from); for an escalation, without {@code --mode} and
     * {@code --escalate} too. Only the runtime's options are looked at: the app's arguments stay as they are.
     */
    List<String> ownArgs(boolean escalating) {
        List<String> args = new ArrayList<>();
        String appPath = app == null ? null : app.toString();
        boolean inOptions = true;
        for (int i = 0; i < originalArgs.size(); i++) {
            String arg = originalArgs.get(i);
            if (inOptions && arg.equals(appPath)) {
                inOptions = false;
            }
            if (inOptions && (arg.equals(Handover.TAKE_OVER) || escalating && arg.equals("--mode"))) {
                i++;
                continue;
            }
            if (inOptions && (arg.startsWith(Handover.TAKE_OVER + "=") || escalating
                    && (arg.startsWith("--mode=") || arg.equals("--escalate")))) {
                continue;
            }
            args.add(arg);
        }
        return args;
    }

    /** @return the warm-up path; null for {@code off}; the default for none given */
    private static String parseWarmUp(String value) {
        if (value == null) {
            return ForklessConfig.DEFAULTS.warmUp();
        }
        String path = value.trim();
        if (path.equalsIgnoreCase("off")) {
            return null;
        }
        try {
            return ForklessConfig.DEFAULTS.withWarmUp(path).warmUp();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--warm-up: a path starting with / (no spaces), or off, not '" + value + "'");
        }
    }

    /**
     * Takes every setting of {@code --config} that the command line does not give itself, and the app's
     * environment from its env blocks.
     */
    void applyConfig() {
        if (config == null) {
            if (environmentName != null) {
                throw new IllegalArgumentException("--env " + environmentName + " needs --config FILE");
            }
            return;
        }
        ConfigFile file = ConfigFile.read(config);
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        if (!file.apps().isEmpty()) {
            if (parsed.hasMatchedPositional(0)) {
                throw new IllegalArgumentException(file.shown() + " lists apps: give no APP.jar on the command line");
            }
            if (parsed.hasMatchedOption(spec.findOption("--name"))) {
                throw new IllegalArgumentException(file.shown() + " lists apps: each is named there, not with --name");
            }
            appsInFile = file.apps();
        }
        applyFile(file);
    }

    /**
     * Takes every setting of a config file (or of one app of its {@code apps} list) that the command line
     * does not give itself, and the app's environment from its env blocks.
     */
    void applyFile(ConfigFile file) {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        boolean appGiven = parsed.hasMatchedPositional(0);
        for (Map.Entry<String, Object> e : file.values().entrySet()) {
            Setting setting = Setting.of(e.getKey());
            CommandLine.Model.ArgSpec arg = argOf(setting.flag());
            if (arg == null) {
                throw file.errorAt(setting.key(), "this runtime has no " + setting.flag() + " option");
            }
            boolean given = arg instanceof CommandLine.Model.OptionSpec option ? parsed.hasMatchedOption(option) : appGiven;
            if (!given) {
                arg.setValue(e.getValue());
            }
        }
        environment = file.environment(environmentName);
    }

    private CommandLine.Model.ArgSpec argOf(String flag) {
        if (flag.startsWith("-")) {
            return spec.findOption(flag);
        }
        return spec.positionalParameters().stream().filter(p -> p.paramLabel().equals(flag)).findFirst().orElse(null);
    }

    private LogSettings logSettings() {
        try {
            return LogSettings.in(logs)
                    .withMerge(mergeLogs)
                    .withFormat(LogSettings.parseFormat(logFormat))
                    .withDateFormat(logDateFormat)
                    .withRotation(Limit.LOG_MAX_SIZE.parseSize("--log-max-size", logMaxSize),
                            Limit.LOG_KEEP.parseCount("--log-keep", logKeep));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("--") ? e.getMessage() : "--logs: " + e.getMessage(), e);
        }
    }

    static Mode parseMode(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "isolate" -> Mode.ISOLATE;
            case "process" -> Mode.PROCESS;
            default -> throw new IllegalArgumentException("--mode takes isolate or process, not '" + value + "'");
        };
    }

    static boolean parseBackoff(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "exponential" -> false;
            case "fixed" -> true;
            default -> throw new IllegalArgumentException("--restart-backoff takes exponential or fixed, not '"
                    + (value.length() > 40 ? value.substring(0, 40) + "..." : value) + "'");
        };
    }

    static java.util.Set<Integer> parseExitCodes(List<String> values) {
        java.util.Set<Integer> codes = new java.util.HashSet<>();
        for (String value : values) {
            String s = value.trim();
            if (!s.matches("\\d{1,3}") || Integer.parseInt(s) > 255) {
                throw new IllegalArgumentException("--stop-exit-codes takes exit statuses 0 to 255, not '"
                        + (value.length() > 40 ? value.substring(0, 40) + "..." : value) + "'");
            }
            codes.add(Integer.parseInt(s));
        }
        return codes;
    }

    static dev.forkless.runtime.Overflow parseOverflow(String value) {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "block" -> dev.forkless.runtime.Overflow.BLOCK;
            case "drop" -> dev.forkless.runtime.Overflow.DROP;
            default -> throw new IllegalArgumentException("--inbox-full takes block or drop, not '" + value + "'");
        };
    }

    static int parseCopies(String value) {
        if (value.trim().equalsIgnoreCase("max")) {
            return Math.min(Runtime.getRuntime().availableProcessors(), (int) Limit.COPIES.max());
        }
        if (!value.trim().matches("[+-]?\\d+")) {
            throw new IllegalArgumentException("--isolates takes a whole number or max, not '"
                    + (value.length() > 40 ? value.substring(0, 40) + "..." : value) + "'");
        }
        return Limit.COPIES.parseCount("--isolates", value);
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

    /**
     * The options' defaults, read from {@link ForklessConfig#DEFAULTS} through {@link Setting#defaultText}:
     * {@code --help} shows them, and an option not given (nor set by {@code --config}) takes them.
     */
    static final class Defaults implements CommandLine.IDefaultValueProvider {
        @Override
        public String defaultValue(CommandLine.Model.ArgSpec arg) {
            if (!(arg instanceof CommandLine.Model.OptionSpec option) || option.isMultiValue()) {
                return null; // positional parameters and lists (--jvm-arg) start empty
            }
            Setting setting = Setting.ofFlag(option.longestName());
            return setting == null ? null : setting.defaultText();
        }
    }

    /** The version from runtime.jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"forkless " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }

    /**
     * SIGTERM and SIGINT stop the runtime gracefully; a second SIGINT exits at once; SIGHUP reloads, also
     * when the runtime was started under {@code nohup}.
     */
    static final class Signals {

        private Signals() {
        }

        static void onStop(Forkless forkless) {
            onStop(forkless::stopAsync, forkless::reload);
        }

        /**
         * @param stop   stops the runtime, given the reason
         * @param reload reloads it, given the trigger
         */
        static void onStop(java.util.function.Consumer<String> stop, java.util.function.Consumer<String> reload) {
            AtomicInteger interrupts = new AtomicInteger();
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> stop.accept("SIGTERM"));
                sun.misc.SignalHandler reloadOnHup = s -> reload.accept("SIGHUP");
                if (sun.misc.Signal.handle(new sun.misc.Signal("HUP"), reloadOnHup) == sun.misc.SignalHandler.SIG_IGN) {
                    // started under nohup: the JVM installed nothing (InheritedSignals says why)
                    if (InheritedSignals.restoreDefault(InheritedSignals.SIGHUP)) {
                        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), reloadOnHup);
                    } else {
                        System.getLogger("forkless").log(System.Logger.Level.WARNING, "SIGHUP is ignored in this "
                                + "process (started under nohup?): reload with 'forkless reload' instead");
                    }
                }
                sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> {
                    if (interrupts.incrementAndGet() > 1) {
                        Runtime.getRuntime().halt(130);
                    }
                    stop.accept("SIGINT");
                });
            } catch (IllegalArgumentException unsupported) {
                // no such signal on this platform: the JVM's default handling stays
            }
        }
    }
}
