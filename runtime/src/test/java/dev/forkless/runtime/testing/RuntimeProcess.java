package dev.forkless.runtime.testing;

import dev.forkless.runtime.registry.ForklessHome;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/** The real runtime.jar, run as a child process of the test, with its output kept line by line. */
public final class RuntimeProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("forkless event=listening address=(\\S+):(\\d+)");

    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    /** The runtime's event lines with when they arrived (System.nanoTime), to place them on a load's timeline. */
    private final List<java.util.Map.Entry<Long, String>> events = new CopyOnWriteArrayList<>();
    private final List<Thread> pumps;

    private RuntimeProcess(Process process) {
        this.process = process;
        this.pumps = List.of(Thread.ofVirtual().start(() -> pump(process.getErrorStream())),
                Thread.ofVirtual().start(() -> pump(process.getInputStream())));
    }

    /** @return the path of a built artifact, from the system property the pom sets */
    public static Path artifact(String property) {
        String value = System.getProperty(property);
        if (value == null) {
            throw new IllegalStateException("system property " + property + " is not set (run through Maven)");
        }
        return Path.of(value);
    }

    /**
     * The JVM options of every runtime and CLI JVM the integration tests start, before the test's own:
     * {@code -XX:TieredStopAtLevel=1} (C1 only) by default, from the system property {@code forkless.it.jvm}
     * the pom sets. Nothing in these tests measures throughput, and on 2 cores the C2 compiler's work on
     * each runtime, copy and command made up about 40% of a start's CPU (6.7 against 3.9 CPU s for the
     * demo with 2 copies); {@code mvn verify -Dforkless.it.jvm=} (empty) runs them with the JVM's defaults,
     * as a user would (docs/decisions.md, "Test time").
     */
    public static List<String> itJvmOptions() {
        String options = System.getProperty("forkless.it.jvm", "").strip();
        return options.isEmpty() ? List.of() : List.of(options.split("\\s+"));
    }

    /**
     * @return the Forkless folder (registry, token files) of the runtimes and commands this test JVM starts,
     *         unless a test gives its own: this JVM's ({@code forkless.home}, which the pom sets per test JVM,
     *         so that two test classes running at once never see each other's runtimes)
     */
    public static String testHome() {
        return ForklessHome.current().folder().toString();
    }

    /**
     * A runtime's arguments with {@link #itJvmOptions()} given to its children too ({@code --jvm-arg}), when
     * they start one in process mode ({@code --mode process}) or one that may move to it ({@code --escalate}),
     * with options first.
     */
    static List<String> withChildJvmOptions(List<String> args) {
        int mode = args.indexOf("--mode");
        boolean process = (mode >= 0 && mode + 1 < args.size() && args.get(mode + 1).equals("process"))
                || args.contains("--mode=process") || args.contains("--escalate");
        if (!process || args.isEmpty() || !args.getFirst().startsWith("--")) {
            return args;
        }
        List<String> withOptions = new ArrayList<>();
        itJvmOptions().forEach(option -> withOptions.add("--jvm-arg=" + option));
        withOptions.addAll(args);
        return withOptions;
    }

    /** @return the demo app's jar */
    public static Path demoJar() {
        return artifact("forkless.demo.jar");
    }

    /**
     * Starts {@code java -jar runtime.jar args...}.
     *
     * @param args the runtime's arguments
     * @return the process
     */
    public static RuntimeProcess start(String... args) throws IOException {
        return startWithJvmArgs(List.of(), args);
    }

    /** Starts {@code java jvmArgs... -jar runtime.jar args...}. */
    public static RuntimeProcess startWithJvmArgs(List<String> jvmArgs, String... args) throws IOException {
        return startUnder(List.of(), jvmArgs, args);
    }

    /**
     * Starts {@code wrapper... java jvmArgs... -jar runtime.jar args...}, for a wrapper that execs its
     * command (as {@code nohup} does: the pid is the runtime's).
     */
    public static RuntimeProcess startUnder(List<String> wrapper, List<String> jvmArgs, String... args)
            throws IOException {
        return startUnder(wrapper, jvmArgs, java.util.Map.of(), args);
    }

    /**
     * Starts {@code java -jar runtime.jar args...} with variables added to its environment (such as
     * {@code FORKLESS_HOME}, to keep its token and registry files out of the user's own folder).
     */
    public static RuntimeProcess startWithEnvironment(java.util.Map<String, String> environment, String... args)
            throws IOException {
        return startUnder(List.of(), List.of(), environment, args);
    }

    private static RuntimeProcess startUnder(List<String> wrapper, List<String> jvmArgs,
                                             java.util.Map<String, String> environment, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(wrapper);
        command.add(artifact("forkless.java").toString());
        command.addAll(itJvmOptions());
        command.addAll(jvmArgs);
        command.add("-jar");
        command.add(artifact("forkless.runtime.jar").toString());
        command.addAll(withChildJvmOptions(List.of(args)));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put(ForklessHome.VARIABLE, testHome());
        builder.environment().putAll(environment);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return new RuntimeProcess(builder.start());
    }

    /**
     * Starts a whole command line (a unit's {@code ExecStart=}, say) in a folder, with variables added to
     * its environment.
     */
    public static RuntimeProcess command(List<String> command, java.util.Map<String, String> environment, Path folder)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(folder.toFile());
        builder.environment().put(ForklessHome.VARIABLE, testHome());
        builder.environment().putAll(environment);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return new RuntimeProcess(builder.start());
    }

    /** Starts the demo with the given runtime options, on an ephemeral port of 127.0.0.1. */
    public static RuntimeProcess demo(String... options) throws IOException {
        return demoWithJvmArgs(List.of(), options);
    }

    /** Starts the demo with JVM options for the runtime and the given runtime options. */
    public static RuntimeProcess demoWithJvmArgs(List<String> jvmArgs, String... options) throws IOException {
        List<String> args = new ArrayList<>(List.of(options));
        args.add(demoJar().toString());
        args.addAll(List.of("--port", "0", "--host", "127.0.0.1"));
        return startWithJvmArgs(jvmArgs, args.toArray(String[]::new));
    }

    /** @return CPU seconds the runtime process has used so far (user + system, from /proc) */
    public double cpuSeconds() throws IOException {
        String stat = java.nio.file.Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return ticks / 100.0;
    }

    /**
     * CPU ticks (1/100 s, user + system) each live thread of the runtime has used so far, from /proc, by
     * {@code name/tid} (the name as the kernel has it: a Java thread's, cut to 15 characters).
     */
    public java.util.Map<String, Long> threadCpuTicks() {
        java.util.Map<String, Long> ticks = new java.util.HashMap<>();
        try (var tasks = java.nio.file.Files.list(Path.of("/proc/" + process.pid() + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = java.nio.file.Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks.put(name + "/" + task.getFileName(), Long.parseLong(fields[11]) + Long.parseLong(fields[12]));
                } catch (IOException ended) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException ended) {
            // the process ended
        }
        return ticks;
    }

    /** The threads that used the most CPU between two {@link #threadCpuTicks()}, with their ticks, busiest first. */
    public static String busiest(java.util.Map<String, Long> before, java.util.Map<String, Long> after, int limit) {
        return after.entrySet().stream()
                .map(e -> java.util.Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(limit)
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(java.util.stream.Collectors.joining(", "));
    }

    private void pump(java.io.InputStream in) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
                if (line.contains(" event=")) {
                    events.add(java.util.Map.entry(System.nanoTime(), line));
                }
            }
        } catch (IOException ignored) {
            // the process ended
        }
    }

    /** Waits until the runtime says it is ready, then returns the address it listens on. */
    public InetSocketAddress awaitReady() {
        await().atMost(Duration.ofSeconds(90)).until(() -> hasLine(l -> l.startsWith("forkless ready")) || !process.isAlive());
        if (!process.isAlive()) {
            throw new AssertionError("runtime exited with " + process.exitValue() + ":\n" + output());
        }
        for (String line : lines) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                return new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
            }
        }
        throw new AssertionError("no listening line in:\n" + output());
    }

    /** Waits until a line matching the predicate was printed. */
    public String awaitLine(Predicate<String> matching, Duration atMost) {
        try {
            await().atMost(atMost).until(() -> hasLine(matching));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no such line within " + atMost + "; the runtime's last lines:\n" + tail(80), e);
        }
        return lines.stream().filter(matching).findFirst().orElseThrow();
    }

    /** @return the last {@code count} lines of output, for a failure message */
    public String tail(int count) {
        List<String> all = lines();
        return String.join("\n", all.subList(Math.max(0, all.size() - count), all.size()));
    }

    /** @return how many lines so far match */
    public long count(Predicate<String> matching) {
        return lines.stream().filter(matching).count();
    }

    public boolean hasLine(Predicate<String> matching) {
        return lines.stream().anyMatch(matching);
    }

    /** @return every line so far */
    /** @return the event lines that arrived after {@code nanos} (System.nanoTime), each with its ms after it */
    public List<String> eventsSince(long nanos) {
        return events.stream().filter(e -> e.getKey() >= nanos)
                .map(e -> "+" + (e.getKey() - nanos) / 1_000_000 + "ms " + e.getValue()).toList();
    }

    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** @return all output so far */
    public String output() {
        return String.join("\n", lines);
    }

    /**
     * Dumps the runtime's threads ({@code jcmd PID Thread.print}, with the jcmd of the JDK running the
     * tests, else the one beside the runtime's {@code java}) among its output lines, and on the test's
     * standard error.
     *
     * @param why the line said before the dump
     */
    public void dumpThreads(String why) throws InterruptedException {
        List<String> dump = new CopyOnWriteArrayList<>();
        dump.add("---- " + why + ": jcmd " + process.pid() + " Thread.print ----");
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!java.nio.file.Files.isExecutable(jcmd)) {
            jcmd = process.toHandle().info().command().map(c -> Path.of(c).resolveSibling("jcmd")).orElse(jcmd);
        }
        try {
            Process dumping = new ProcessBuilder(jcmd.toString(), String.valueOf(process.pid()), "Thread.print")
                    .redirectErrorStream(true).start();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(dumping.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    in.lines().forEach(dump::add);
                } catch (IOException | java.io.UncheckedIOException ended) {
                    // what was read is kept
                }
            });
            if (!dumping.waitFor(60, TimeUnit.SECONDS)) {
                dumping.destroyForcibly();
                dump.add("(jcmd did not finish within 60 s)");
            }
            reader.join(Duration.ofSeconds(5));
        } catch (IOException e) {
            dump.add("(cannot run " + jcmd + ": " + e.getMessage() + ")");
        }
        dump.add("---- end of the thread dump ----");
        List<String> dumped = List.copyOf(dump);
        lines.addAll(dumped);
        System.err.println("runtime " + process.pid() + ":\n" + String.join("\n", dumped));
    }

    /** @return the runtime's pid */
    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Waits for the process to end; returns its exit code. */
    public int awaitExit(Duration atMost) throws InterruptedException {
        if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("runtime still running after " + atMost + ":\n" + output());
        }
        for (Thread pump : pumps) {
            pump.join(Duration.ofSeconds(5));
        }
        return process.exitValue();
    }

    /**
     * Sends SIGTERM. Through the process handle: {@code Process.destroy()} would also close our ends of its
     * pipes, and the runtime's last lines would be lost.
     */
    public void terminate() {
        process.toHandle().destroy();
    }

    /** How long after SIGTERM at {@link #close} the runtime's threads are dumped into its log, if it still runs. */
    private static final Duration DUMP_AFTER = Duration.ofSeconds(10);
    /** How long after SIGTERM at {@link #close} it is killed. */
    private static final Duration KILL_AFTER = Duration.ofSeconds(15);

    /**
     * Stops the runtime (SIGTERM; a runtime still running 10 s later has its threads dumped with
     * {@code jcmd PID Thread.print}, into its log and the test's standard error, so that a CI log shows
     * where it hung; SIGKILL at 15 s) and keeps its whole output in
     * {@code target/it-logs/runtime-<pid>.log}, to read after a failure.
     */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            long start = System.nanoTime();
            process.toHandle().destroy();
            if (!process.waitFor(DUMP_AFTER.toMillis(), TimeUnit.MILLISECONDS)) {
                dumpThreads("the runtime still runs " + DUMP_AFTER.toSeconds() + " s after SIGTERM");
                long left = KILL_AFTER.toNanos() - (System.nanoTime() - start);
                if (!process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            }
        }
        for (Thread pump : pumps) {
            pump.join(Duration.ofSeconds(5));
        }
        try {
            Path logs = Path.of(System.getProperty("forkless.it.logs", "target/it-logs"));
            java.nio.file.Files.createDirectories(logs);
            java.nio.file.Files.write(logs.resolve("runtime-" + process.pid() + ".log"), lines());
        } catch (IOException e) {
            System.err.println("could not keep the runtime's output: " + e);
        }
    }
}
