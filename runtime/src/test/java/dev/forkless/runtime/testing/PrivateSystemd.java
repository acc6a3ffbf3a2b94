package dev.forkless.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

import static org.awaitility.Awaitility.await;

/**
 * A real systemd ({@code /lib/systemd/systemd --system}) as PID 1 of private PID, mount, cgroup, UTS and
 * IPC namespaces, for tests of the unit {@code startup systemd} prints. The network is the machine's, so
 * a service's ports are reachable from the test; the files are the machine's too.
 *
 * <p>It sees only the units a test writes to {@link #units()} ({@code SYSTEMD_UNIT_PATH}), no generator
 * runs, and it boots a target of its own: nothing of {@code sysinit.target} (tmpfiles, sysctl, udev,
 * sysusers) runs, since on the machine's file system those would act on the machine itself (tmpfiles
 * empties {@code /tmp} at boot). Stub targets stand in for those a service names ({@code sysinit.target},
 * {@code basic.target}, {@code network-online.target}, ...). Its {@code /run} is a private tmpfs, its
 * cgroup tree a fresh folder of the machine's cgroup2 hierarchy, mounted as its root. {@link #close()}
 * kills its PID 1 (the kernel then kills every process of the namespace) and removes the cgroup folder.
 *
 * <p>PIDs: systemd and the processes of its services see the namespace's PIDs ({@code MainPID=12});
 * {@link #hostPid} maps one to the machine's. Commands that must see those PIDs (a CLI that checks its
 * registry's PIDs) run inside with {@link #exec}.
 */
public final class PrivateSystemd implements AutoCloseable {

    private static final Path SYSTEMD = Path.of("/lib/systemd/systemd");

    /** Stub targets for what a service's default dependencies and usual {@code After=} name. */
    private static final List<String> TARGETS = List.of("forkless-test", "sysinit", "basic", "shutdown",
            "network", "network-online", "multi-user", "default");

    /** Moves itself to the new cgroup, then runs {@link #PID1} under a terminal whose output is console.log. */
    private static final String LAUNCHER = """
            #!/bin/sh
            # launcher.sh STATE CGROUP: systemd as PID 1 of new PID, mount, cgroup, UTS and IPC namespaces,
            # rooted at the new cgroup2 folder CGROUP, its console a terminal that script(1) copies to a file.
            set -eu
            mkdir "$2"
            echo $$ > "$2/cgroup.procs"
            exec script --quiet --flush --return --command "unshare --cgroup --pid --fork --mount --uts --ipc \
                --propagation private --mount-proc /bin/sh -eu $1/pid1.sh $1" "$1/console.log"
            """;

    /** PID 1 of the namespaces until it execs systemd: its cgroup tree, /run, console, units. */
    private static final String PID1 = """
            #!/bin/sh
            # pid1.sh STATE, in the new namespaces
            set -eu
            mount -t cgroup2 cgroup2 /sys/fs/cgroup
            mount -t tmpfs -o mode=0755 tmpfs /run
            mount --bind "$(tty)" /dev/console
            # the JVMs' perf data files are named by pid, and pids here are small: in the machine's shared
            # /tmp, pid 62 of two private systemds (two builds at once) collide and the JVM warns on stdout
            mkdir -p "/tmp/hsperfdata_$(id -un)"
            mount -t tmpfs -o mode=0755 tmpfs "/tmp/hsperfdata_$(id -un)"
            exec env -i container=forkless-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                SYSTEMD_UNIT_PATH="$1/units" SYSTEMD_GENERATOR_PATH="$1/empty" \
                SYSTEMD_ENVIRONMENT_GENERATOR_PATH="$1/empty" \
                /lib/systemd/systemd --system --unit=forkless-test.target --log-target=console --show-status=no
            """;

    private final Path state;
    private final Path cgroup;
    private final Process launcher;
    private volatile ProcessHandle init;

    private PrivateSystemd(Path state, Path cgroup, Process launcher) {
        this.state = state;
        this.cgroup = cgroup;
        this.launcher = launcher;
    }

    /**
     * Starts systemd and waits until it runs its target; aborts the test (an assumption) when this machine
     * cannot run it: not root, no systemd, no cgroup2 hierarchy, or systemd does not come up.
     *
     * @param state an empty folder of the test's for its units and logs
     */
    public static PrivateSystemd start(Path state) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(SYSTEMD), "no " + SYSTEMD + " on this machine");
        Assumptions.assumeTrue(isRoot(), "a private systemd needs root (namespaces, mounts, cgroups)");
        Optional<Path> hierarchy = cgroup2();
        Assumptions.assumeTrue(hierarchy.isPresent(), "no cgroup2 hierarchy mounted (/proc/self/mountinfo)");
        Files.createDirectories(state.resolve("units"));
        Files.createDirectories(state.resolve("empty"));
        for (String target : TARGETS) {
            Files.writeString(state.resolve("units").resolve(target + ".target"),
                    "[Unit]\nDescription=Stub " + target + ".target of the test's systemd\nDefaultDependencies=no\n");
        }
        Path script = Files.writeString(state.resolve("launcher.sh"), LAUNCHER);
        Files.writeString(state.resolve("pid1.sh"), PID1);
        Path cgroup = hierarchy.get().resolve("forkless-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Process launcher = new ProcessBuilder("/bin/sh", script.toString(), state.toString(), cgroup.toString())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(state.resolve("launcher.log").toFile()).start();
        PrivateSystemd systemd = new PrivateSystemd(state, cgroup, launcher);
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> !launcher.isAlive() || systemd.findInit().isPresent());
            if (!launcher.isAlive()) {
                throw new IllegalStateException("exit " + launcher.exitValue());
            }
            systemd.init = systemd.findInit().orElseThrow();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!systemd.init.isAlive()) {
                    throw new IllegalStateException("systemd exited");
                }
                String running = systemd.systemctl("is-system-running").out();
                return running.equals("running") || running.equals("degraded");
            });
        } catch (RuntimeException e) {
            String why = e + "\n" + systemd.logs() + systemd.tail("launcher.log");
            systemd.close();
            Assumptions.abort("a private systemd cannot run on this machine: " + why);
        }
        return systemd;
    }

    private static boolean isRoot() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
    }

    /** @return where the machine's cgroup2 hierarchy is mounted ({@code /sys/fs/cgroup/unified} on a hybrid one) */
    private static Optional<Path> cgroup2() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] halves = line.split(" - ", 2);
            String[] fields = halves[0].split(" ");
            if (halves.length == 2 && halves[1].startsWith("cgroup2 ") && fields[3].equals("/")) {
                return Optional.of(Path.of(fields[4]));
            }
        }
        return Optional.empty();
    }

    /** @return the launcher's child: unshare forks the namespace's PID 1, which becomes systemd */
    private Optional<ProcessHandle> findInit() {
        return launcher.toHandle().descendants()
                .filter(p -> p.info().commandLine().orElse("").contains("systemd --system")).findFirst();
    }

    /** @return the folder that systemd loads units from ({@code SYSTEMD_UNIT_PATH}) */
    public Path units() {
        return state.resolve("units");
    }

    /** The result of a command run to its end. */
    public record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + ", out: " + out + ", err: " + err;
        }
    }

    /** Runs {@code systemctl args...} against this systemd, waiting at most 120 s. */
    public Result systemctl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("systemctl", "--no-pager"));
        command.addAll(List.of(args));
        return exec(Duration.ofSeconds(120), Map.of(), command);
    }

    /** @return {@code systemctl show -p KEY,... unit} as a map */
    public Map<String, String> show(String unit, String... keys) throws IOException, InterruptedException {
        Result show = systemctl("show", "-p", String.join(",", keys), unit);
        if (show.exitCode() != 0) {
            throw new AssertionError("systemctl show: " + show);
        }
        Map<String, String> values = new LinkedHashMap<>();
        show.out().lines().forEach(l -> values.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        return values;
    }

    /**
     * Runs a command in systemd's PID and mount namespaces ({@code nsenter}), with variables added to its
     * environment, to its end.
     */
    public Result exec(Duration atMost, Map<String, String> environment, List<String> command)
            throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of("nsenter", "-t", String.valueOf(init.pid()), "-m", "-p", "--"));
        line.addAll(command);
        Path out = Files.createTempFile(state, "exec", ".out");
        Path err = Files.createTempFile(state, "exec", ".err");
        ProcessBuilder builder = new ProcessBuilder(line);
        builder.environment().putAll(environment);
        Process p = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("still running after " + atMost.toSeconds() + " s: " + line + "\n" + logs());
        }
        try {
            return new Result(p.exitValue(), Files.readString(out).strip(), Files.readString(err).strip());
        } finally {
            Files.delete(out);
            Files.delete(err);
        }
    }

    /**
     * @param pid a PID in systemd's namespace
     * @return that process as the machine sees it, if it runs
     */
    public Optional<ProcessHandle> hostPid(long pid) throws IOException {
        Path namespace = Files.readSymbolicLink(Path.of("/proc", String.valueOf(init.pid()), "ns", "pid"));
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    if (!Files.readSymbolicLink(p.resolve("ns").resolve("pid")).equals(namespace)) {
                        return false;
                    }
                    return Files.readAllLines(p.resolve("status")).stream()
                            .filter(l -> l.startsWith("NSpid:")).findFirst()
                            .map(l -> l.substring(l.lastIndexOf('\t') + 1).strip().equals(String.valueOf(pid)))
                            .orElse(false);
                } catch (IOException | UncheckedIOException e) {
                    return false; // it exited meanwhile
                }
            }).findFirst().flatMap(p -> ProcessHandle.of(Long.parseLong(p.getFileName().toString())));
        }
    }

    /** @return systemd's own log (its console), the last lines */
    public String logs() {
        return tail("console.log");
    }

    private String tail(String name) {
        try {
            List<String> lines = Files.readAllLines(state.resolve(name));
            return "--- " + name + "\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 150), lines.size())) + "\n";
        } catch (IOException e) {
            return "--- " + name + ": " + e + "\n";
        }
    }

    /** Kills systemd, PID 1 of its namespace, hence every process in it, and removes its cgroup folder. */
    @Override
    public void close() {
        ProcessHandle pid1 = init != null ? init : findInit().orElse(null);
        if (pid1 != null) {
            pid1.destroyForcibly();
        }
        try {
            if (!launcher.waitFor(30, TimeUnit.SECONDS)) {
                launcher.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (Files.isDirectory(cgroup)) {
            // the killed processes leave their cgroups as the kernel reaps them
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                try (Stream<Path> tree = Files.walk(cgroup)) {
                    for (Path folder : tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(folder);
                    }
                }
                return !Files.exists(cgroup);
            });
        }
    }
}
