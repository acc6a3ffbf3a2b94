package dev.forkless.runtime.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar runtime.jar logs}: prints the last lines of the log files a runtime started with
 * {@code --logs DIR} writes, and with {@code --follow} the lines written from then on, as {@code tail}
 * does.
 */
@Command(name = "logs", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
        description = "Prints the last lines of the log files of a runtime started with --logs DIR.")
final class LogsCommand implements Callable<Integer> {

    /** {@code <app>-<id>-<stream>.log}, {@code <app>-events.log} or {@code <app>.log}, maybe rotated ({@code .N}). */
    private static final Pattern COPY_FILE = Pattern.compile("(.+)-(\\d+)-(out|err)\\.log");
    private static final Pattern EVENTS_FILE = Pattern.compile("(.+)-events\\.log");
    private static final Pattern MERGED_FILE = Pattern.compile("(.+)\\.log");
    private static final Pattern TAG = Pattern.compile("\\[w(\\d+)(?: err)?] ");
    private static final Pattern JSON_WORKER = Pattern.compile("\"worker\":\"(\\d+)\"");

    @Option(names = "--dir", paramLabel = "DIR",
            description = "The log folder (default: the --logs folder of the runtime that runs APP, or logs in "
                    + "--config, or logs).")
    Path dir;

    @CommandLine.Parameters(index = "0", arity = "0..1", paramLabel = "APP",
            description = "The app: read the log folder of the runtime that runs it (see forkless ls).")
    String app;

    @Option(names = "--config", paramLabel = "FILE", description = "Take the log folder from this config file.")
    Path config;

    @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "15",
            description = "Lines to print from the end of each file (default: ${DEFAULT-VALUE}).")
    int lines;

    @Option(names = {"-w", "--worker"}, paramLabel = "ID", description = "Only this copy's lines.")
    String worker;

    @Option(names = {"-f", "--follow"}, description = "Keep printing lines as they are written, until interrupted.")
    boolean follow;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One log file of the folder. */
    private record LogFile(Path path, String worker, int order) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path folder;
        try {
            folder = folder();
        } catch (IllegalArgumentException e) {
            err.println("forkless: " + e.getMessage());
            return 2;
        }
        try {
            dev.forkless.runtime.Limit.LOG_LINES.check("--lines", lines);
        } catch (IllegalArgumentException e) {
            err.println("forkless: " + e.getMessage());
            return 2;
        }
        if (!Files.isDirectory(folder)) {
            err.println("forkless: no log folder " + folder + " (start the runtime with --logs " + folder + ")");
            return 2;
        }
        List<LogFile> files = files(folder);
        if (files.isEmpty() && !follow) {
            err.println("forkless: no log files in " + folder + (worker == null ? "" : " for copy " + worker));
            return 1;
        }
        Map<Path, Long> positions = new HashMap<>();
        for (LogFile file : files) {
            out.println("==> " + file.path() + " <==");
            tail(file).forEach(l -> out.println(dev.forkless.runtime.log.TerminalText.clean(l, false)));
            positions.put(file.path(), Files.size(file.path()));
        }
        out.flush();
        if (!follow) {
            return 0;
        }
        Path last = null;
        while (!Thread.currentThread().isInterrupted()) {
            for (LogFile file : files(folder)) {
                long from = positions.getOrDefault(file.path(), 0L);
                long size = Files.size(file.path());
                if (size < from) {
                    from = 0; // rotated: the file started again
                }
                if (size == from) {
                    continue;
                }
                List<String> fresh = new ArrayList<>();
                long read = readLines(file.path(), from, size, fresh);
                positions.put(file.path(), from + read);
                List<String> mine = fresh.stream().filter(l -> matches(file, l)).toList();
                if (!mine.isEmpty()) {
                    if (!file.path().equals(last)) {
                        out.println("==> " + file.path() + " <==");
                        last = file.path();
                    }
                    mine.forEach(l -> out.println(dev.forkless.runtime.log.TerminalText.clean(l, false)));
                    out.flush();
                }
            }
            Thread.sleep(250);
        }
        return 0;
    }

    private Path folder() {
        if (dir != null) {
            return dir;
        }
        if (app != null && config == null) {
            List<dev.forkless.runtime.registry.RegistryEntry> running = dev.forkless.runtime.registry.RuntimeRegistry
                    .of(dev.forkless.runtime.registry.ForklessHome.current()).running(app);
            String name = dev.forkless.runtime.log.TerminalText.clean(app, false);
            if (running.size() != 1) {
                throw new IllegalArgumentException((running.isEmpty() ? "no runtime runs" : running.size()
                        + " runtimes run") + " the app '" + name + "' (see forkless ls): give its log folder with --dir");
            }
            return running.getFirst().logs().orElseThrow(() -> new IllegalArgumentException("the runtime that runs '"
                    + name + "' (pid " + running.getFirst().pid() + ") writes no log files (start it with --logs DIR)"));
        }
        if (config != null) {
            Object logs = ConfigFile.read(config).values().get("logs");
            if (logs == null) {
                throw new IllegalArgumentException(config + " has no logs setting");
            }
            return (Path) logs;
        }
        return Path.of("logs");
    }

    /** The live files of the folder this command reads, events first, then by copy, out before err. */
    private List<LogFile> files(Path folder) throws IOException {
        List<LogFile> found = new ArrayList<>();
        try (Stream<Path> list = Files.list(folder)) {
            for (Path path : list.toList()) {
                String name = path.getFileName().toString();
                Matcher copy = COPY_FILE.matcher(name);
                if (copy.matches()) {
                    if (!ofApp(copy.group(1))) {
                        continue;
                    }
                    if (worker == null || worker.equals(copy.group(2))) {
                        found.add(new LogFile(path, copy.group(2), 1 + Integer.parseInt(copy.group(2)) * 2
                                + (copy.group(3).equals("err") ? 1 : 0)));
                    }
                } else if (EVENTS_FILE.matcher(name).matches()) {
                    Matcher events = EVENTS_FILE.matcher(name);
                    if (events.matches() && worker == null && ofApp(events.group(1))) {
                        found.add(new LogFile(path, null, 0));
                    }
                } else if (MERGED_FILE.matcher(name).matches()) {
                    Matcher merged = MERGED_FILE.matcher(name);
                    if (merged.matches() && !ofApp(merged.group(1))) {
                        continue;
                    }
                    found.add(new LogFile(path, worker, Integer.MAX_VALUE));
                }
            }
        }
        found.sort(Comparator.comparingInt(LogFile::order).thenComparing(f -> f.path().toString()));
        return found;
    }

    /** Whether a log file's app (the start of its name) is the one asked for: a folder may hold several apps' files. */
    private boolean ofApp(String fileApp) {
        return app == null || app.equals(fileApp);
    }

    /** Whether a line of a merged file is of the copy asked for (lines of a copy's own file always are). */
    private boolean matches(LogFile file, String line) {
        if (worker == null || file.order() != Integer.MAX_VALUE) {
            return true;
        }
        Matcher tag = line.startsWith("{") ? JSON_WORKER.matcher(line) : TAG.matcher(line);
        return tag.find() && tag.group(1).equals(worker);
    }

    /** The last lines of a log, reading into its rotated files ({@code .1}, {@code .2}, ...) when needed. */
    private List<String> tail(LogFile file) throws IOException {
        Deque<String> last = new ArrayDeque<>();
        Path path = file.path();
        for (int n = 1; last.size() < lines && Files.exists(path); n++) {
            List<String> all;
            try (Stream<String> s = Files.lines(path, StandardCharsets.UTF_8)) {
                all = s.filter(l -> matches(file, l)).toList();
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            for (int i = all.size() - 1; i >= 0 && last.size() < lines; i--) {
                last.addFirst(all.get(i));
            }
            path = file.path().resolveSibling(file.path().getFileName() + "." + n);
        }
        return List.copyOf(last);
    }

    /** Reads the whole lines between two offsets; returns how many bytes they took. */
    private static long readLines(Path path, long from, long to, List<String> into) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "r")) {
            file.seek(from);
            byte[] bytes = new byte[(int) Math.min(to - from, 16 * 1024 * 1024)];
            file.readFully(bytes);
            int start = 0;
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == '\n') {
                    into.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return start;
        }
    }
}
