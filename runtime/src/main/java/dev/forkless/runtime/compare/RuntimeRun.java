package dev.forkless.runtime.compare;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One Forkless runtime started as a separate JVM by {@code --compare}, watched through its event log
 * on standard error. Each event line is kept with the time it was read.
 */
final class RuntimeRun implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("forkless event=listening address=(.*):(\\d+)$");
    private static final List<String> RUNTIME_JVM_FLAGS = List.of(
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.nio.channels.spi=ALL-UNNAMED",
            "--add-opens=jdk.httpserver/sun.net.httpserver=ALL-UNNAMED",
            "--add-opens=java.logging/java.util.logging=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--enable-native-access=ALL-UNNAMED");

    /** An event line and when it was read ({@link System#nanoTime()}). */
    record Event(long nanos, String line) {
    }

    private final Process process;
    private final long startedNanos;
    private final List<Event> events = new ArrayList<>();
    private final Deque<String> tail = new ArrayDeque<>();
    private final Thread reader;

    private RuntimeRun(Process process, long startedNanos) {
        this.process = process;
        this.startedNanos = startedNanos;
        this.reader = Thread.ofVirtual().name("compare-runtime-log").start(this::read);
    }

    /**
     * Starts a runtime.
     *
     * @param process whether the copies are child JVMs
     * @param standby warm standbys
     */
    static RuntimeRun start(Compare.Config config, boolean process, int standby) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(dev.forkless.runtime.compare.Compare.javaCommand());
        if (!process) {
            command.addAll(config.jvmArgs());
        }
        command.addAll(RUNTIME_JVM_FLAGS);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.forkless.runtime.cli.Main");
        command.add("--mode=" + (process ? "process" : "isolate"));
        command.add("--isolates=" + config.copies());
        command.add("--standby=" + standby);
        command.add("--drain-timeout=" + config.drainTimeout().toMillis() + "ms");
        command.add("--admin=off"); // measured runs serve the app only
        if (process) {
            config.jvmArgs().forEach(a -> command.add("--jvm-arg=" + a));
        }
        command.add(config.app().toString());
        command.addAll(config.appArgs());
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        long started = System.nanoTime();
        return new RuntimeRun(builder.start(), started);
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                long now = System.nanoTime();
                synchronized (this) {
                    if (line.startsWith("forkless")) {
                        events.add(new Event(now, line));
                        notifyAll();
                    }
                    tail.addLast(line);
                    if (tail.size() > 30) {
                        tail.removeFirst();
                    }
                }
            }
        } catch (IOException ignored) {
            // the runtime ended
        }
        synchronized (this) {
            notifyAll();
        }
    }

    /** @return when the runtime was started ({@link System#nanoTime()}) */
    long startedNanos() {
        return startedNanos;
    }

    /** @return the number of events so far: a mark to wait for later ones */
    synchronized int mark() {
        return events.size();
    }

    /**
     * Waits for the first event at or after {@code from} whose line matches.
     *
     * @return its index
     * @throws TimeoutException naming what was awaited, with the runtime's last lines
     */
    synchronized int await(int from, Predicate<String> matches, String what, Duration timeout)
            throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = from;
        while (true) {
            for (; i < events.size(); i++) {
                if (matches.test(events.get(i).line())) {
                    return i;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                throw new TimeoutException("no '" + what + "' from the runtime within " + timeout.toSeconds()
                        + " s" + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")")
                        + "; its last lines:\n  " + String.join("\n  ", tail));
            }
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, 50_000_000L));
        }
    }

    synchronized Event event(int index) {
        return events.get(index);
    }

    /** @return the port the app listens on, once the runtime bound it */
    int awaitPort(Duration timeout) throws TimeoutException, InterruptedException {
        int i = await(0, l -> LISTENING.matcher(l).find(), "event=listening", timeout);
        Matcher m = LISTENING.matcher(event(i).line());
        if (!m.find()) {
            throw new IllegalStateException(event(i).line());
        }
        String host = m.group(1);
        if (!(host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0")
                || host.startsWith("127.") || host.equals("localhost"))) {
            throw new IllegalStateException("--compare sends traffic only to 127.0.0.1, but the app listens on "
                    + host + ": start it on 127.0.0.1 or 0.0.0.0");
        }
        return Integer.parseInt(m.group(2));
    }

    /** @return the resident memory of the runtime and all its descendants, in bytes, from /proc */
    long residentSetBytes() {
        long total = rss(process.pid());
        for (ProcessHandle child : process.descendants().toList()) {
            total += rss(child.pid());
        }
        return total;
    }

    /** @return how many processes the set has (the runtime and its children) */
    long processCount() {
        return 1 + process.descendants().count();
    }

    private static long rss(long pid) {
        try (Stream<String> lines = Files.lines(Path.of("/proc", String.valueOf(pid), "status"))) {
            return lines.filter(l -> l.startsWith("VmRSS:"))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024)
                    .findFirst().orElse(0);
        } catch (IOException | RuntimeException e) {
            return 0; // gone
        }
    }

    /** Stops the runtime with SIGTERM (a graceful drain), then SIGKILL after a while. */
    @Override
    public void close() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            for (ProcessHandle child : children) {
                child.onExit().get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            children.forEach(ProcessHandle::destroyForcibly);
        }
    }
}
