package dev.forkless.runtime.cli;

import dev.forkless.runtime.JvmFlags;
import dev.forkless.runtime.Limit;
import dev.forkless.runtime.log.TerminalText;
import dev.forkless.runtime.registry.ForklessHome;
import dev.forkless.runtime.registry.RegistryEntry;
import dev.forkless.runtime.registry.RuntimeRegistry;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code forkless start [options] app.jar [app args]}: starts the runtime in the background, as
 * {@code pm2 start} does, for machines without systemd: a new session ({@code setsid}), stdin from
 * {@code /dev/null}, its console appended to {@code <home>/logs/<app>.log} (with {@code --logs DIR}:
 * {@code DIR/<app>-console.log}). Waits until the runtime has registered ({@code forkless ls}) and prints one
 * line; a runtime that ends first (a bad jar, a taken port, a bad option) has its own error line printed
 * and its exit code returned, and nothing is left running.
 */
@Command(name = "start", description = {"Start the runtime in the background (as pm2 start does; with systemd, "
        + "run it in the foreground instead): returns once it serves, printing its pid, admin URL and log file. "
        + "Stop it with forkless stop APP. start APP: start again an app that stop APP stopped (see start --help).",
        "start APP [--admin URL] [--token-file FILE] [--timeout DURATION]: start again an app of a running runtime "
        + "of several that stop APP stopped, or whose copies all errored, with its settings (exit 1 when it runs "
        + "already)."})
final class DetachedStart implements Callable<Integer> {

    private static final System.Logger LOG = System.getLogger(DetachedStart.class.getName());

    /** How long a runtime that said it serves gets to write its registry file. */
    private static final Duration REGISTRATION_GRACE = Duration.ofSeconds(3);

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "2m",
            description = "How long the runtime gets to start its copies before it is stopped and start fails "
                    + "(default: ${DEFAULT-VALUE}).")
    String wait;

    @Option(names = {"-f", "--force"},
            description = "Start even when a runtime of the same app runs already (as pm2 start -f).")
    boolean force;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(paramLabel = "[OPTIONS] APP.jar [ARGS]", arity = "0..*",
            description = "The runtime's options (see forkless --help), the app, and the app's arguments.")
    List<String> args = new ArrayList<>();

    private final PrintStream out;
    private final PrintStream err;

    DetachedStart(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** What the runtime's command line says that {@code start} needs before it starts it. */
    private record Plan(String app, Path logFile) {
    }

    @Override
    public Integer call() {
        if (StartApp.names(args)) { // start APP: an app of a running runtime, not a runtime to start
            return StartApp.run(args, out, err);
        }
        Duration patience;
        Plan plan;
        try {
            patience = Limit.CLIENT_TIMEOUT.parseDuration("--wait", wait);
            plan = plan();
        } catch (IllegalArgumentException e) {
            err.println("forkless: " + TerminalText.clean(String.valueOf(e.getMessage()), false));
            return ClientCommands.USAGE;
        } catch (CommandLine.ParameterException e) {
            err.println("forkless: " + TerminalText.clean(String.valueOf(e.getMessage()), false) + " (see --help)");
            return ClientCommands.USAGE;
        }
        if (plan == null) { // --help or --version of the runtime: printed here, nothing started
            return Main.run(args.toArray(String[]::new), out, err);
        }
        for (String app : force ? List.<String>of() : List.of(plan.app().split(", "))) {
            List<RegistryEntry> running = RuntimeRegistry.of(ForklessHome.current()).running(app);
            if (!running.isEmpty()) {
                RegistryEntry first = running.getFirst();
                err.println("forkless: " + app + " runs already (pid " + first.pid()
                        + first.addresses().stream().findFirst().map(a -> ", " + a).orElse("")
                        + "): stop it first (forkless stop " + app + "), reload it (forkless reload "
                        + app + "), or start another anyway with start --force");
                return ClientCommands.USAGE;
            }
        }
        try {
            return start(plan, patience);
        } catch (IOException e) {
            err.println("forkless: cannot start the runtime: " + dev.forkless.runtime.IoReason.of(e));
            return ClientCommands.REFUSED;
        }
    }

    /**
     * Reads the runtime's command line as the runtime will (its options, {@code --config}), so that a bad one
     * is refused before anything starts.
     *
     * @return the plan, or null when the command line asks for the runtime's help or version
     */
    private Plan plan() {
        if (args.isEmpty()) {
            throw new IllegalArgumentException("start needs the app: forkless start [OPTIONS] APP.jar [ARGS] (see --help)");
        }
        Main probe = new Main(err);
        CommandLine line = new CommandLine(probe);
        line.setStopAtPositional(true);
        line.parseArgs(args.toArray(String[]::new));
        if (line.isUsageHelpRequested() || line.isVersionHelpRequested()) {
            return null;
        }
        if (line.getParseResult().subcommand() != null) {
            throw new IllegalArgumentException("start runs the runtime, not the command '"
                    + line.getParseResult().subcommand().commandSpec().name() + "'");
        }
        probe.applyConfig();
        if (!probe.appsInFile().isEmpty()) { // a runtime of several apps: each is checked as its start would
            for (ConfigFile.App one : probe.appsInFile()) {
                try {
                    probe.forApp(one).settings();
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(one.name() + ": " + e.getMessage(), e);
                }
            }
            String file = probe.config.getFileName().toString().replaceFirst("\\.(ya?ml|json)$", "");
            Path logFile = probe.logs != null ? probe.logs.resolve(file + "-console.log")
                    : ForklessHome.current().folder().resolve("logs").resolve(file + ".log");
            return new Plan(String.join(", ", probe.appsInFile().stream().map(ConfigFile.App::name).toList()),
                    logFile.toAbsolutePath().normalize());
        }
        if (probe.app == null) {
            throw new IllegalArgumentException("Missing required parameter: 'APP.jar' (give it, or app in --config) (see --help)");
        }
        if (probe.compare != null && probe.compare.compare) {
            throw new IllegalArgumentException("start runs the runtime in the background; run --compare in the foreground");
        }
        probe.settings(); // a bad value is refused here, with the runtime's own words
        String app = probe.name != null && !probe.name.isBlank() ? probe.name.trim() : Main.appName(probe.app);
        Path logFile = probe.logs != null ? probe.logs.resolve(app + "-console.log")
                : ForklessHome.current().folder().resolve("logs").resolve(app + ".log");
        return new Plan(app, logFile.toAbsolutePath().normalize());
    }

    private int start(Plan plan, Duration patience) throws IOException {
        Files.createDirectories(plan.logFile().getParent());
        long from = Files.exists(plan.logFile()) ? Files.size(plan.logFile()) : 0;
        ProcessBuilder builder = new ProcessBuilder(command())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(plan.logFile().toFile()))
                .redirectErrorStream(true);
        Process runtime = builder.start();
        RuntimeRegistry registry = RuntimeRegistry.of(ForklessHome.current());
        long deadline = System.nanoTime() + patience.toNanos();
        ReadyLine ready = new ReadyLine(plan.logFile(), from);
        long unregisteredSince = 0;
        while (System.nanoTime() < deadline) {
            Optional<RegistryEntry> entry = registry.live().stream().filter(e -> e.pid() == runtime.pid()).findFirst();
            if (entry.isPresent()) {
                out.println(startedLine(plan, entry.get()));
                return ClientCommands.DONE;
            }
            if (unregisteredSince == 0 && ready.seen()) {
                unregisteredSince = System.nanoTime();
            }
            if (unregisteredSince != 0 && System.nanoTime() - unregisteredSince > REGISTRATION_GRACE.toNanos()) {
                // it serves, but could not write its registry file (it warned why in its log)
                out.println("started " + plan.app() + ": pid " + runtime.pid() + ", not registered (forkless ls "
                        + "will not list it; see " + shown(plan.logFile()) + ")");
                return ClientCommands.DONE;
            }
            if (!runtime.isAlive()) {
                return failed(plan, runtime.exitValue(), from);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        runtime.descendants().forEach(ProcessHandle::destroyForcibly);
        runtime.destroyForcibly();
        err.println("forkless: the runtime did not serve within " + wait.trim() + " and was stopped (see "
                + shown(plan.logFile()) + ")");
        return ClientCommands.REFUSED;
    }

    /** The runtime ended before it served: its own error line, and its exit code. */
    private int failed(Plan plan, int status, long from) throws IOException {
        String why = null;
        try (InputStream in = Files.newInputStream(plan.logFile())) {
            in.skipNBytes(Math.min(from, Files.size(plan.logFile())));
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("forkless: ") && !line.startsWith("forkless: warning")) {
                    why = line;
                    break;
                }
            }
        }
        err.println(why != null ? TerminalText.clean(why, false)
                : "forkless: the runtime exited with status " + status + " before it served (see "
                + shown(plan.logFile()) + ")");
        LOG.log(System.Logger.Level.DEBUG, "runtime for {0} exited with {1}", plan.app(), status);
        return status == 0 ? ClientCommands.REFUSED : status;
    }

    /**
     * Looks for the runtime's {@code forkless ready:} line in what it appended to its log file, reading
     * only what is new at each look.
     */
    private static final class ReadyLine {
        private final byte[] ready = "forkless ready: ".getBytes(StandardCharsets.UTF_8);
        private final Path file;
        private long position;
        private int matched;
        private boolean seen;

        ReadyLine(Path file, long from) {
            this.file = file;
            this.position = from;
        }

        boolean seen() {
            if (seen) {
                return true;
            }
            try (var channel = java.nio.channels.FileChannel.open(file)) {
                channel.position(position);
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(64 * 1024);
                int n;
                while ((n = channel.read(buffer)) > 0) {
                    buffer.flip();
                    while (buffer.hasRemaining() && !seen) {
                        byte b = buffer.get();
                        matched = b == ready[matched] ? matched + 1 : (b == ready[0] ? 1 : 0);
                        seen = matched == ready.length;
                    }
                    position += n;
                    buffer.clear();
                }
            } catch (IOException e) {
                return false;
            }
            return seen;
        }
    }

    /** @return {@code started shop: pid 1234, 2 isolates on 0.0.0.0:8080, admin http://..., log ~/...} */
    static String startedLine(Plan plan, RegistryEntry entry) {
        String noun = "process".equals(entry.mode()) ? "process" + (entry.copies() == 1 ? "" : "es")
                : "isolate" + (entry.copies() == 1 ? "" : "s");
        return "started " + plan.app() + ": pid " + entry.pid() + ", " + entry.copies() + " " + noun + " on "
                + String.join(", ", entry.addresses()) + ", admin " + entry.admin().orElse("off") + ", log "
                + shown(plan.logFile());
    }

    /** @return a path with the user's home folder as {@code ~} */
    static String shown(Path path) {
        String home = System.getProperty("user.home");
        String text = path.toString();
        return home != null && !home.isEmpty() && text.startsWith(home + "/") ? "~" + text.substring(home.length()) : text;
    }

    /** The runtime's command line: this JVM's java, the runtime's JVM options, this Forkless home, the args. */
    private List<String> command() {
        List<String> command = new ArrayList<>();
        Path setsid = List.of(Path.of("/usr/bin/setsid"), Path.of("/bin/setsid")).stream()
                .filter(Files::isExecutable).findFirst().orElse(null);
        if (setsid != null) {
            command.add(setsid.toString()); // a session of its own: a closed terminal does not reach it
        } else {
            LOG.log(System.Logger.Level.WARNING, "no setsid on this machine: the runtime stays in this terminal's session");
        }
        command.add(ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(JvmFlags.runtime());
        for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if ((flag.startsWith("-X") || flag.startsWith("-D")) && !flag.startsWith("-D" + ForklessHome.PROPERTY + "=")
                    && !flag.startsWith("-Xrunjdwp") && !flag.startsWith("-Xdebug")) {
                command.add(flag);
            }
        }
        command.add("-D" + ForklessHome.PROPERTY + "=" + ForklessHome.current().folder());
        String classPath = System.getProperty("java.class.path");
        if (classPath.endsWith(".jar") && !classPath.contains(java.io.File.pathSeparator)) {
            command.add("-jar");
            command.add(classPath);
        } else {
            command.add("-cp");
            command.add(classPath);
            command.add(Main.class.getName());
        }
        command.addAll(args);
        return command;
    }
}
