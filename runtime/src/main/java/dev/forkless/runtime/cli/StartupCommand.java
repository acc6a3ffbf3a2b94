package dev.forkless.runtime.cli;

import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code java -jar runtime.jar startup systemd [options] [-- runtime options... app.jar [app args...]]}:
 * prints a unit that starts the runtime at boot, as {@code pm2 startup} does.
 */
@Command(name = "startup", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, usageHelpAutoWidth = true,
        description = "Prints what starts this runtime at boot. Only systemd is supported.",
        subcommands = StartupCommand.Systemd.class)
final class StartupCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("forkless: startup needs an init system: startup systemd (see startup --help)");
        return 2;
    }

    /** {@code startup systemd}: prints a systemd service unit on stdout. */
    @Command(name = "systemd", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, usageHelpAutoWidth = true, sortOptions = false,
            description = {"Prints a systemd service unit that runs this runtime at boot: restarted when it fails, "
                    + "stopped with SIGTERM (it drains), reloaded with SIGHUP (a rolling reload), Type=notify so that "
                    + "systemd follows forkless upgrade to the new runtime JVM (MAINPID=).",
                    "Example: java -jar runtime.jar startup systemd -- --isolates 4 /srv/app.jar > forkless.service"},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:printed", "2:bad input"})
    static final class Systemd implements Callable<Integer> {

        private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.@-]*\\$?");

        @Option(names = "--config", paramLabel = "FILE",
                description = "The runtime reads its settings from FILE (passed as --config, made absolute).")
        Path config;

        @Option(names = "--user", paramLabel = "USER", description = "The user the runtime runs as (default: you).")
        String user;

        @Option(names = "--name", paramLabel = "NAME", defaultValue = "forkless",
                description = "The unit's name (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--java-option", paramLabel = "OPT",
                description = "An option for the runtime's JVM, before -jar (repeatable), e.g. --java-option=-Xmx2g.")
        List<String> javaOptions = new ArrayList<>();

        @Option(names = "--stop-timeout", paramLabel = "DURATION",
                description = "How long systemd waits for a graceful stop before SIGKILL (default: the runtime's "
                        + "--drain-timeout, or 5s, plus 10s). Set it when --config sets a longer drain timeout.")
        String stopTimeout;

        @Option(names = "--jar", paramLabel = "RUNTIME.jar", hidden = true,
                description = "The runtime jar the unit runs (default: this one).")
        Path jar;

        @Parameters(paramLabel = "RUNTIME-ARGS",
                description = "The runtime's own options, the app jar and its arguments, after --.")
        List<String> runtimeArgs = new ArrayList<>();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            try {
                spec.commandLine().getOut().print(unit().render());
                spec.commandLine().getOut().flush();
                return 0;
            } catch (IllegalArgumentException e) {
                err.println("forkless: " + e.getMessage());
                return 2;
            }
        }

        SystemdUnit unit() {
            if (config == null && runtimeArgs.isEmpty()) {
                throw new IllegalArgumentException("startup systemd needs --config FILE or, after --, the app to run "
                        + "(e.g. startup systemd -- --isolates 4 /srv/app.jar)");
            }
            String runAs = user != null ? user : System.getProperty("user.name");
            if (!USER.matcher(runAs).matches()) {
                throw new IllegalArgumentException("--user takes a user name, not '" + runAs + "'");
            }
            if (!USER.matcher(name).matches() || name.endsWith("$")) {
                throw new IllegalArgumentException("--name takes a unit name (letters, digits, _.@-), not '" + name + "'");
            }
            Path runtimeJar = jar != null ? jar.toAbsolutePath().normalize() : thisJar();
            if (!Files.isRegularFile(runtimeJar)) {
                throw new IllegalArgumentException("no runtime jar at " + runtimeJar + " (run startup from runtime.jar)");
            }
            Duration drain = drainTimeout(runtimeArgs).orElse(Duration.ofSeconds(5));
            Duration stop = stopTimeout != null ? Durations.parse(stopTimeout) : SystemdUnit.stopTimeoutFor(drain);
            if (stop.compareTo(drain) <= 0) {
                throw new IllegalArgumentException("--stop-timeout " + stopTimeout + " must be longer than the drain "
                        + "timeout (" + drain.toMillis() + "ms), or systemd kills the runtime while it drains");
            }
            Path javaHome = Path.of(System.getProperty("java.home"));
            List<String> command = new ArrayList<>();
            command.add(javaHome.resolve("bin").resolve("java").toString());
            command.addAll(javaOptions);
            command.add("-jar");
            command.add(runtimeJar.toString());
            if (config != null) {
                Path file = config.toAbsolutePath().normalize();
                if (!Files.isRegularFile(file)) {
                    throw new IllegalArgumentException("--config: no such file: " + file);
                }
                command.add("--config");
                command.add(file.toString());
            }
            command.addAll(runtimeArgs);
            List<String> invocation = new ArrayList<>(List.of("java", "-jar", runtimeJar.getFileName().toString()));
            invocation.addAll(spec.commandLine().getParseResult().originalArgs());
            return new SystemdUnit(name, runAs, Path.of("").toAbsolutePath(), command, stop,
                    String.join(" ", invocation));
        }

        /**
         * The {@code --drain-timeout} among the runtime's own options: those before the app jar, read with
         * the runtime's option definitions (so an option's value is never taken for the jar).
         */
        static Optional<Duration> drainTimeout(List<String> runtimeArgs) {
            CommandSpec runtime = new CommandLine(new Main(System.err)).getCommandSpec();
            for (int i = 0; i < runtimeArgs.size(); i++) {
                String arg = runtimeArgs.get(i);
                if (arg.equals("--") || !arg.startsWith("-") || arg.equals("-")) {
                    break;
                }
                int eq = arg.indexOf('=');
                String optionName = eq > 0 ? arg.substring(0, eq) : arg;
                OptionSpec option = runtime.findOption(optionName);
                boolean takesValue = option != null && option.arity().max() > 0;
                String value = eq > 0 ? arg.substring(eq + 1)
                        : takesValue && i + 1 < runtimeArgs.size() ? runtimeArgs.get(++i) : null;
                if (option != null && option.longestName().equals("--drain-timeout") && value != null) {
                    return Optional.of(Durations.parse(value));
                }
            }
            return Optional.empty();
        }

        private static Path thisJar() {
            try {
                return Path.of(StartupCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            } catch (URISyntaxException | SecurityException | NullPointerException e) {
                throw new IllegalArgumentException("cannot tell where runtime.jar is; pass --jar", e);
            }
        }
    }
}
