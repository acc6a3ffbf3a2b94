package dev.forkless.runtime.cli;

import dev.forkless.runtime.Limit;
import dev.forkless.runtime.admin.AdminAddress;
import dev.forkless.runtime.registry.ForklessHome;
import dev.forkless.runtime.registry.RuntimeRegistry;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The CLI's client commands ({@code list}, {@code reload}, {@code scale}, {@code restart}, {@code stop},
 * {@code monit}, {@code describe}, {@code start APP} ({@link StartApp})): each talks to a running runtime's admin API, given with {@code --admin} or found by its
 * app's name in the registry of the machine's runtimes ({@link RuntimeFinder}); and {@code ls}, which lists
 * that registry; and {@code start} ({@link DetachedStart}), which starts one in the background. Exit codes: 0 done, 1 the runtime refused
 * or failed, 2 bad usage, 3 no runtime reachable.
 */
final class ClientCommands {

    static final int DONE = 0;
    static final int REFUSED = 1;
    static final int USAGE = 2;
    static final int UNREACHABLE = 3;
    /** The app name that stands for every app of the runtime. */
    static final String ALL = "all";

    private ClientCommands() {
    }

    /** @return the client commands, printing to {@code out} and {@code err} */
    static List<Object> all(PrintStream out, PrintStream err) {
        return List.of(new ListCommand(out, err), new Reload(out, err), new Scale(out, err), new Restart(out, err),
                new Stop(out, err), new UpgradeCommand(out, err), new Monit(out, err), new LsCommand(out, err),
                new DescribeCommand(out, err), new DetachedStart(out, err), new Metering(out, err));
    }

    /** The options every client command takes. */
    static final class Target {
        @Option(names = "--admin", paramLabel = "URL",
                description = "The runtime's admin address, HOST:PORT or http://HOST:PORT (default: the runtime "
                        + "that runs APP, or the only runtime running, as forkless ls lists them; with none "
                        + "listed, " + AdminAddress.DEFAULT + ").")
        String admin;

        @Option(names = "--token-file", paramLabel = "FILE",
                description = "The admin token's file (default: the one the runtime wrote for its port, "
                        + "~/.forkless/admin-PORT.token).")
        Path tokenFile;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m",
                description = "How long to wait for the runtime to finish an operation (a reload of many copies "
                        + "takes minutes); a runtime that does not answer at all is given up on after "
                        + "5 s, a read after 10 s, or after this timeout when it is shorter: exit 3 "
                        + "(default: ${DEFAULT-VALUE}).")
        String timeout;

        Duration operationTimeout() {
            return Limit.CLIENT_TIMEOUT.parseDuration("--timeout", timeout);
        }

        /**
         * @param app the app named on the command line, to find its runtime when no {@code --admin} is given
         * @throws IllegalArgumentException (exit 2) when the address is bad or no single runtime can be found
         */
        AdminClient client(Optional<String> app) {
            Duration limit = operationTimeout();
            if (admin != null) {
                return new AdminClient(AdminAddress.parse(admin), Optional.ofNullable(tokenFile), Optional.empty(), limit);
            }
            RuntimeFinder.Found found = new RuntimeFinder(RuntimeRegistry.of(ForklessHome.current()))
                    .find(app.filter(a -> !a.equals(ALL)));
            unregistered = found.unregistered();
            return new AdminClient(found.address(), Optional.ofNullable(tokenFile), found.tokenFile(), limit);
        }

        /** When the registry listed no runtime and the client tried the default address: where it looked. */
        private Optional<String> unregistered = Optional.empty();

        /** @return what to add to "no runtime reachable": that none was registered, and where */
        String unregistered() {
            return unregistered.map(why -> "; " + why).orElse("");
        }
    }

    /** What every client command shares: the target, the streams, the mapping of failures to exit codes. */
    abstract static class Base implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        boolean help;

        final PrintStream out;
        final PrintStream err;

        Base(PrintStream out, PrintStream err) {
            this.out = out;
            this.err = err;
        }

        /** @return the app named on the command line, whose runtime the command is for */
        abstract Optional<String> app();

        /**
         * @param path an API path
         * @return the path naming the app of the command line ({@code ?app=NAME}), as a runtime of several
         *         apps needs; unchanged when none is named
         */
        String forApp(String path) {
            Optional<String> app = app();
            if (app.isEmpty()) {
                return path;
            }
            return path + (path.contains("?") ? "&" : "?") + "app=" + checkedName(app.get());
        }

        @Override
        public final Integer call() {
            AdminClient client;
            try {
                client = target.client(app());
                target.operationTimeout();
            } catch (IllegalArgumentException e) {
                err.println("forkless: " + e.getMessage());
                return USAGE;
            }
            try {
                String unknown = unknownApp(client);
                if (unknown != null) {
                    err.println("forkless: " + unknown);
                    return USAGE;
                }
                return run(client);
            } catch (AdminClient.Unreachable e) {
                err.println("forkless: " + e.getMessage() + target.unregistered());
                return UNREACHABLE;
            } catch (IOException e) {
                err.println("forkless: " + e.getMessage());
                return USAGE;
            } catch (IllegalArgumentException e) {
                err.println("forkless: " + e.getMessage());
                return USAGE;
            }
        }

        abstract int run(AdminClient client) throws AdminClient.Unreachable, IOException;

        /**
         * With {@code --admin}, the app named is checked against the apps the runtime there runs (as the
         * registry checks it without): one that runtime does not run is bad usage, said with the apps it runs.
         *
         * @return the line that says so, or null when it runs the app (or cannot say which apps it runs)
         */
        private String unknownApp(AdminClient client) throws AdminClient.Unreachable, IOException {
            Optional<String> app = app();
            if (target.admin == null || app.isEmpty() || app.get().equals(ALL)
                    || !app.get().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                return null; // a bad name is said by forApp
            }
            AdminClient.Response runtime = client.get("/api/runtime");
            JsonNode apps = runtime.body() == null ? null : runtime.body().get("apps");
            if (!runtime.ok() || apps == null || !apps.isArray()) {
                return null;
            }
            List<String> names = new java.util.ArrayList<>();
            apps.forEach(a -> names.add(a.asText()));
            if (names.contains(app.get())) {
                return null;
            }
            return "no app named \"" + app.get() + "\" in the runtime at " + client.url().replaceFirst("^https?://", "")
                    + " (its apps: " + dev.forkless.runtime.log.TerminalText.clean(String.join(", ", names), false) + ")";
        }

        /** Runs an operation: prints its outcome, returns its exit code. */
        int operation(AdminClient client, String path, String what) throws AdminClient.Unreachable, IOException {
            return report(client, client.post(path, target.operationTimeout()), what);
        }

        /** Prints an operation's outcome, returns its exit code. */
        int report(AdminClient client, AdminClient.Response response, String what) {
            if (response.status() == 401) {
                err.println("forkless: the runtime refused the token for " + what + " (token file: "
                        + client.tokenFile() + ")");
                return REFUSED;
            }
            if (!response.ok()) {
                err.println("forkless: " + what + " failed: " + response.reason());
                return REFUSED;
            }
            JsonNode body = response.body();
            if (body != null && body.has("applied")) {
                List<String> keys = new java.util.ArrayList<>();
                body.get("applied").forEach(k -> keys.add(k.asText()));
                int n = body.get("replaced").asInt();
                out.println(what + ": done, " + n + " cop" + (n == 1 ? "y" : "ies") + " started, applied: "
                        + (keys.isEmpty() ? "nothing changed" : String.join(", ", keys)));
            } else if (body != null && body.has("replaced")) {
                int n = body.get("replaced").asInt();
                out.println(what + ": done, " + n + " cop" + (n == 1 ? "y" : "ies") + " started");
            } else {
                out.println(what + ": done");
            }
            return DONE;
        }
    }

    /** A client command whose only parameter is the app. */
    abstract static class ForApp extends Base {
        @Parameters(index = "0", arity = "0..1", paramLabel = "APP",
                description = "The app (its name: --name, or its jar's name without .jar): the command talks to "
                        + "the runtime that runs it, found in the registry (forkless ls), and is for that app alone "
                        + "in a runtime of several (all: every app); not needed with --admin or one runtime running.")
        String app;

        ForApp(PrintStream out, PrintStream err) {
            super(out, err);
        }

        @Override
        Optional<String> app() {
            return Optional.ofNullable(app);
        }
    }

    /**
     * @param app an app's name from the command line
     * @return it, when it is one
     * @throws IllegalArgumentException (exit 2) naming it, when it cannot be an app's name
     */
    static String checkedName(String app) {
        if (!app.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new IllegalArgumentException("'" + dev.forkless.runtime.log.TerminalText.clean(
                    app.length() > 40 ? app.substring(0, 40) + "..." : app, false) + "' is not an app's name (see forkless ls)");
        }
        return app;
    }

    /**
     * Splits {@code [APP] VALUE}: one word is the value, two are the app and the value.
     *
     * @return the app, if named
     */
    static Optional<String> appOf(String command, List<String> words) {
        if (words.size() > 2) {
            throw new IllegalArgumentException(command + " takes at most an app and a value, not " + words.size()
                    + " words (see --help)");
        }
        return words.size() == 2 ? Optional.of(words.getFirst()) : Optional.empty();
    }

    @Command(name = "list", description = "Print the copies of a running runtime as a table.")
    static final class ListCommand extends ForApp {
        ListCommand(PrintStream out, PrintStream err) {
            super(out, err);
        }

        @Override
        int run(AdminClient client) throws AdminClient.Unreachable, IOException {
            AdminClient.Response response = client.get(forApp("/api/workers"));
            if (!response.ok() || response.body() == null || !response.body().isArray()) {
                err.println("forkless: " + client.url() + " did not list its copies: " + response.reason());
                return REFUSED;
            }
            WorkerTable.render(response.body(), Map.of()).forEach(out::println);
            return DONE;
        }
    }

    @Command(name = "reload", description = "Rolling reload: replace every copy, one at a time, without downtime.")
    static final class Reload extends ForApp {
        @Option(names = "--update-env",
                description = "Re-read the runtime's command line and config file (--config) first, and apply "
                        + "what a live runtime can change: env, args, jvmArgs, timeouts, the restart policy, "
                        + "maxMemory, cronRestart, isolates; what needs a restart is said. A config file with a "
                        + "bad value is refused (exit 2) and the copies keep running. The environment is the "
                        + "config file's, not this shell's (docs/operations.md).")
        boolean updateEnv;

        Reload(PrintStream out, PrintStream err) {
            super(out, err);
        }

        @Override
        int run(AdminClient client) throws AdminClient.Unreachable, IOException {
            if (!updateEnv) {
                return operation(client, forApp("/api/reload"), "reload");
            }
            AdminClient.Response response = client.post(forApp("/api/reload?updateEnv=true"), target.operationTimeout());
            if (response.status() == 400) { // the runtime's config file does not parse or has a bad value
                err.println("forkless: " + response.reason());
                return USAGE;
            }
            int code = report(client, response, "reload --update-env");
            JsonNode body = response.body();
            if (body != null && body.has("notApplied") && !body.get("notApplied").isEmpty()) {
                List<String> keys = new java.util.ArrayList<>();
                body.get("notApplied").forEach(k -> keys.add(k.asText()));
                out.println("not applied (needs a restart): " + String.join(", ", keys));
            }
            return code;
        }
    }

    @Command(name = "scale", description = "Set the number of serving copies.")
    static final class Scale extends Base {
        @Parameters(arity = "1..2", paramLabel = "[APP] N", hideParamSyntax = true,
                description = "The app, to find its runtime (see list), and the serving copies, at least 1.")
        List<String> words;

        Scale(PrintStream out, PrintStream err) {
            super(out, err);
        }

        @Override
        Optional<String> app() {
            return appOf("scale", words);
        }

        @Override
        int run(AdminClient client) throws AdminClient.Unreachable, IOException {
            int n = Limit.COPIES.parseCount("scale", words.getLast());
            return operation(client, forApp("/api/scale?n=" + n), "scale to " + n);
        }
    }

    @Command(name = "metering", description = "Turn the metering of isolates (each copy's CPU and memory) off or on "
            + "while the runtime runs, without touching a copy; the runtime's apps share one meter.")
    static final class Metering extends Base {
        @Parameters(arity = "1..2", paramLabel = "[APP] on|off", hideParamSyntax = true,
                description = "The app, to find its runtime (see list), and on or off.")
        List<String> words;

        Metering(PrintStream out, PrintStream err) {
            super(out, err);
        }

        /** Checks the words before anything is asked of a runtime: bad usage is exit 2 whatever else is wrong. */
        @Override
        Optional<String> app() {
            String on = words.getLast();
            if (!on.equals("on") && !on.equals("off")) {
                throw new IllegalArgumentException("metering takes on or off, not '" + dev.forkless.runtime.log.TerminalText
                        .clean(on.length() > 40 ? on.substring(0, 40) + "..." : on, false) + "'");
            }
            return appOf("metering", words).map(ClientCommands::checkedName);
        }

        @Override
        int run(AdminClient client) throws AdminClient.Unreachable, IOException {
            String on = words.getLast();
            return operation(client, "/api/metering?on=" + on.equals("on"), "metering " + on);
        }
    }

    @Command(name = "restart", description = "Replace one copy without downtime.")
    static final class Restart extends Base {
        @Parameters(arity = "1..2", paramLabel = "[APP] ID", hideParamSyntax = true,
                description = "The app, to find its runtime (see list), and the copy's id (see list); "
                        + "or APP:ID in one word.")
        List<String> words;

        Restart(PrintStream out, PrintStream err) {
            super(out, err);
        }

        @Override
        Optional<String> app() {
            if (words.size() == 1 && words.getFirst().contains(":")) {
                return Optional.of(words.getFirst().substring(0, words.getFirst().lastIndexOf(':')));
            }
            return appOf("restart", words);
        }

        @Override
        int run(AdminClient client) throws AdminClient.Unreachable, IOException {
            String id = words.getLast().substring(words.getLast().lastIndexOf(':') + 1);
            if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("'" + id + "' is not a copy id (see list)");
            }
            return operation(client, forApp("/api/workers/" + id + "/restart"), "restart of copy " + id);
        }
    }

    @Command(name = "stop", description = "Stop the runtime gracefully (every copy drains) and wait until it is gone; "
            + "in a runtime of several apps, stop APP stops that app alone (start APP starts it again).")
    static final class Stop extends ForApp {
        Stop(PrintStream out, PrintStream err) {
            super(out, err);
        }

        @Override
        int run(AdminClient client) throws AdminClient.Unreachable, IOException {
            AdminClient.Response response = client.post(forApp("/api/stop"), target.operationTimeout());
            if (response.status() == 401) {
                err.println("forkless: the runtime refused the token for stop (token file: " + client.tokenFile() + ")");
                return REFUSED;
            }
            if (!response.ok()) {
                err.println("forkless: stop failed: " + response.reason());
                return REFUSED;
            }
            String oneApp = response.body() == null ? null : response.body().path("app").asText(null);
            long deadline = System.nanoTime() + java.time.Duration.ofMinutes(2).toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    if (oneApp != null) { // one app of several: done once it has no copy left
                        AdminClient.Response workers = client.get(forApp("/api/workers"));
                        if (workers.ok() && workers.body() != null && workers.body().isEmpty()) {
                            out.println("stop " + oneApp + ": done");
                            return DONE;
                        }
                    } else {
                        client.get("/health/live");
                    }
                    Thread.sleep(100);
                } catch (AdminClient.Unreachable gone) {
                    out.println("stop: done");
                    return DONE;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            err.println("forkless: the runtime is stopping but still answers after 2 minutes");
            return REFUSED;
        }
    }

    @Command(name = "upgrade", description = "Upgrade without downtime: start a fresh runtime JVM (a new runtime jar, "
            + "a new JDK, or the same ones) with the runtime's settings, hand it every listening socket and the admin "
            + "address, and let the old one drain and exit; prints the new runtime's pid once it answers here. "
            + "Under systemd the new runtime becomes the service's main process (MAINPID=); --pid-file gets its pid.")
    static final class UpgradeCommand extends ForApp {
        @Option(names = "--runtime", paramLabel = "JAR",
                description = "The runtime jar the new runtime runs (default: the one running now).")
        Path runtime;

        @Option(names = "--java", paramLabel = "PATH",
                description = "The java launcher of the new runtime, a JDK's bin/java (default: the one running now).")
        Path launcher;

        UpgradeCommand(PrintStream out, PrintStream err) {
            super(out, err);
        }

        /** How long the admin address may stay silent before the command gives up (it moves for milliseconds). */
        static final Duration SILENCE = Duration.ofSeconds(30);

        @Override
        int run(AdminClient client) throws AdminClient.Unreachable, IOException {
            StringBuilder path = new StringBuilder("/api/upgrade");
            String runtimeJar = absolute("--runtime", runtime);
            String javaPath = absolute("--java", launcher);
            char sep = '?';
            if (runtimeJar != null) {
                path.append(sep).append("runtime=").append(java.net.URLEncoder.encode(runtimeJar, java.nio.charset.StandardCharsets.UTF_8));
                sep = '&';
            }
            if (javaPath != null) {
                path.append(sep).append("java=").append(java.net.URLEncoder.encode(javaPath, java.nio.charset.StandardCharsets.UTF_8));
            }
            AdminClient.Response response = client.post(path.toString(), AdminClient.READ_TIMEOUT.multipliedBy(4));
            if (response.status() == 400) {
                err.println("forkless: " + response.reason());
                return USAGE;
            }
            if (response.status() == 401) {
                err.println("forkless: the runtime refused the token for upgrade (token file: " + client.tokenFile() + ")");
                return REFUSED;
            }
            if (!response.ok() || response.body() == null || !response.body().path("pid").canConvertToLong()) {
                err.println("forkless: upgrade failed: " + response.reason());
                return REFUSED;
            }
            long pid = response.body().get("pid").asLong();
            long from = response.body().path("from").asLong();
            // the runtime gives the new one its ready timeout and a minute, and says when it failed: wait for
            // either, up to --timeout, unless the address stays silent (the old runtime went away)
            long deadline = System.nanoTime() + target.operationTimeout().toNanos();
            long silentSince = 0;
            String last = "no answer yet";
            while (System.nanoTime() < deadline) {
                try {
                    // the new runtime binds the admin port the old one let go of; should another process take
                    // it in that gap (a runtime starting with the default address), the new one takes the next
                    // free port and says so in the registry: its entry, once there, is where it answers
                    AdminClient asked = movedTo(pid, client).orElse(client);
                    AdminClient.Response now = asked.get("/api/runtime");
                    silentSince = 0;
                    JsonNode body = now.body();
                    if (now.ok() && body != null && body.path("pid").asLong() == pid) {
                        out.println("upgrade: runtime pid " + pid + " serves, pid " + from + " drains and exits");
                        if (asked != client) {
                            out.println("upgrade: its admin API is at " + asked.url() + " (" + client.url()
                                    + " was taken while it moved)");
                        }
                        return DONE;
                    }
                    JsonNode upgrade = body == null ? null : body.get("upgrade");
                    if (upgrade != null && upgrade.path("pid").asLong() == pid && upgrade.path("state").asText().equals("failed")) {
                        err.println("forkless: upgrade failed: " + upgrade.path("reason").asText()
                                + "; runtime pid " + from + " serves on");
                        return REFUSED;
                    }
                    last = "runtime pid " + (body == null ? "?" : body.path("pid").asText()) + " answers";
                } catch (AdminClient.Unreachable e) {
                    last = e.getMessage(); // the address moves from the old runtime to the new one
                    if (silentSince == 0) {
                        silentSince = System.nanoTime();
                    } else if (System.nanoTime() - silentSince > SILENCE.toNanos()) {
                        break;
                    }
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            err.println("forkless: the new runtime (pid " + pid + ") did not answer at " + client.url() + " ("
                    + last + ")");
            return REFUSED;
        }

        /**
         * @return a client of the new runtime's admin API where the registry says it is, when that is not
         *         where {@code client} asks
         */
        private Optional<AdminClient> movedTo(long pid, AdminClient client) {
            Optional<RuntimeFinder.Found> found;
            try {
                found = new RuntimeFinder(RuntimeRegistry.of(ForklessHome.current())).ofPid(pid);
            } catch (RuntimeException unreadable) {
                return Optional.empty(); // no registry to read: the address asked is all there is
            }
            return found.filter(f -> !f.address().url().equals(client.url()))
                    .map(f -> new AdminClient(f.address(), Optional.ofNullable(target.tokenFile), f.tokenFile(),
                            target.operationTimeout()));
        }

        /** @return the path made absolute against this shell's folder (the runtime's is another), or null */
        private static String absolute(String option, Path path) {
            if (path == null) {
                return null;
            }
            Path absolute = path.toAbsolutePath().normalize();
            if (!java.nio.file.Files.exists(absolute)) {
                throw new IllegalArgumentException(option + " " + path + ": no such file");
            }
            return absolute.toString();
        }
    }

    @Command(name = "monit", description = "Redraw the table of copies every second, with requests/s, until Ctrl-C.")
    static final class Monit extends ForApp {
        @Option(names = "--iterations", hidden = true, defaultValue = "0",
                description = "Stop after this many redraws (0: until Ctrl-C).")
        int iterations;

        @Option(names = "--interval", hidden = true, defaultValue = "1000", description = "Milliseconds between redraws.")
        long interval;

        Monit(PrintStream out, PrintStream err) {
            super(out, err);
        }

        @Override
        int run(AdminClient client) throws AdminClient.Unreachable, IOException {
            Map<String, long[]> last = new HashMap<>(); // id -> {nanos, requests}
            boolean first = true;
            DateTimeFormatter clock = DateTimeFormatter.ofPattern("HH:mm:ss");
            for (int i = 0; iterations == 0 || i < iterations; i++) {
                StringBuilder screen = new StringBuilder("\033[H\033[2J");
                screen.append("forkless monit  ").append(client.url()).append("  ")
                        .append(LocalTime.now().format(clock)).append("  (Ctrl-C to quit)\n\n");
                try {
                    AdminClient.Response workers = client.get(forApp("/api/workers"));
                    if (!workers.ok() || workers.body() == null || !workers.body().isArray()) {
                        err.println("forkless: " + client.url() + " did not list its copies: " + workers.reason());
                        return REFUSED;
                    }
                    long now = System.nanoTime();
                    Map<String, Double> rates = new HashMap<>();
                    Map<String, long[]> next = new HashMap<>();
                    for (JsonNode w : workers.body()) {
                        String id = w.path("id").asText();
                        long requests = w.path("requests").asLong();
                        long[] before = last.get(id);
                        if (before != null && now > before[0]) {
                            rates.put(id, Math.max(0, requests - before[1]) * 1e9 / (now - before[0]));
                        }
                        next.put(id, new long[] {now, requests});
                    }
                    last = next;
                    WorkerTable.render(workers.body(), rates).forEach(l -> screen.append(l).append('\n'));
                    AdminClient.Response runtime = client.get("/api/runtime");
                    if (runtime.ok() && runtime.body() != null && runtime.body().hasNonNull("residentMemoryBytes")) {
                        screen.append("\nruntime pid ").append(runtime.body().path("pid").asText()).append("  memory ")
                                .append(WorkerTable.bytes(runtime.body().get("residentMemoryBytes").asLong()))
                                .append("  heap ").append(WorkerTable.bytes(runtime.body().path("heapUsedBytes").asLong()))
                                .append('\n');
                    }
                } catch (AdminClient.Unreachable e) {
                    if (first) {
                        throw e;
                    }
                    screen.append(e.getMessage()).append('\n');
                    last = new HashMap<>();
                }
                first = false;
                out.print(screen);
                out.flush();
                if (iterations != 0 && i == iterations - 1) {
                    break;
                }
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return DONE;
        }
    }
}
