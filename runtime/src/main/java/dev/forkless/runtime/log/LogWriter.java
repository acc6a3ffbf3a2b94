package dev.forkless.runtime.log;

import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.IoReason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Writes the copies' lines and the runtime's events to files, on one thread of its own, so that a slow
 * disk never holds up a copy that prints: a line is put on a bounded queue and the caller goes on. When
 * the queue is full the line is dropped and counted, and the writer says so (one line, at most once a
 * second). A failed write (a full disk, a folder that went away or became read-only) degrades once and
 * loudly: it is reported at once with the system's reason, the file is retried with a back-off (1 s,
 * doubling up to 30 s; lines meant for it meanwhile are lost and counted), a failure that goes on is
 * reported again at most every minute, doubling up to an hour, and the recovery is reported once. The
 * runtime keeps going.
 */
public final class LogWriter implements ConsoleRouter.Lines, Consumer<ForklessEvent>, AutoCloseable {

    /** Lines the queue holds before lines are dropped. */
    static final int DEFAULT_CAPACITY = 16_384;
    private static final Duration WARN_EVERY = Duration.ofSeconds(1);
    private static final int BATCH = 1024;
    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final Duration LONGEST_RETRY = Duration.ofSeconds(30);
    private static final Duration FIRST_REPEAT = Duration.ofMinutes(1);
    private static final Duration LONGEST_REPEAT = Duration.ofHours(1);

    /** One file as the writer sees it. */
    interface Target extends AutoCloseable {
        void write(byte[] line) throws IOException;

        void flush() throws IOException;

        @Override
        void close();
    }

    /** A line on its way to a file. */
    record Line(Instant time, String worker, String stream, String message) {
    }

    private final LogSettings settings;
    private final String app;
    private final Function<String, Target> opener;
    private final Consumer<String> warnings;
    private final BlockingQueue<Line> queue;
    private final DateTimeFormatter dateFormat;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, Target> targets = new HashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Thread thread;
    private volatile boolean closing;
    private long droppedReported;
    private long failedReported;
    private long lastWarning;
    private String lastFailure;
    /** Files that failed: when to try each again, and the wait after the next failure. Writer thread only. */
    private final Map<String, long[]> retries = new HashMap<>();
    /** Failure reports: since when it fails (0: it does not), when to report again, the next wait. */
    private long failingSince;
    private long nextFailureReport;
    private long failureRepeat = FIRST_REPEAT.toNanos();
    private long failedAtFirstReport;

    /**
     * @param settings where and how
     * @param app      the app's name, the start of each file's name
     * @param opener   opens a file by name (tests give their own)
     * @param capacity lines the queue holds
     * @param warnings where the writer's own warnings go (one line each), besides the events file
     */
    LogWriter(LogSettings settings, String app, Function<String, Target> opener, int capacity, Consumer<String> warnings) {
        this.settings = settings;
        this.app = app;
        this.opener = opener;
        this.warnings = warnings;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.dateFormat = settings.dateFormat() == null ? null : LogSettings.formatter(settings.dateFormat());
        this.thread = Thread.ofPlatform().daemon().name("forkless-log-writer").start(this::run);
    }

    /**
     * A writer to the files of {@code settings.dir()}, which is created.
     *
     * @throws IllegalArgumentException when the folder cannot be created
     */
    public static LogWriter toFiles(LogSettings settings, String app, Consumer<String> warnings) {
        checkFolder(settings.dir());
        return new LogWriter(settings, app,
                name -> new RotatingFile(settings.dir().resolve(name), settings.maxSize(), settings.keep()),
                DEFAULT_CAPACITY, warnings);
    }

    /**
     * Makes sure the runtime can write in the log folder now, so that a folder it cannot use is refused at
     * start with the system's reason rather than found out line by line.
     *
     * @throws IllegalArgumentException {@code --logs DIR: Permission denied}, {@code ... is a file, not a folder}
     */
    static void checkFolder(java.nio.file.Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--logs " + dir + ": it is a file, not a folder");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("--logs " + dir + ": cannot create the folder: " + IoReason.of(e));
        }
        try {
            java.nio.file.Path probe = Files.createTempFile(dir, ".forkless-", ".probe");
            Files.delete(probe);
        } catch (IOException e) {
            throw new IllegalArgumentException("--logs " + dir + ": cannot write in the folder: " + IoReason.of(e));
        }
    }

    /** A whole line of a copy, without its line end. Never blocks. */
    @Override
    public void line(String worker, String stream, String message) {
        offer(new Line(Instant.now(), worker, stream, message));
    }

    /** An event of the runtime, as {@link EventLog} writes it. Never blocks. */
    @Override
    public void accept(ForklessEvent event) {
        for (String line : EventLog.lines(event, true)) {
            offer(new Line(event.time(), null, "events", line));
        }
    }

    private void offer(Line line) {
        if (closing || !queue.offer(line)) {
            dropped.incrementAndGet();
        }
    }

    /** @return lines dropped because the writer was behind */
    long dropped() {
        return dropped.get();
    }

    /** @return lines that could not be written */
    long failed() {
        return failed.get();
    }

    private void run() {
        List<Line> batch = new ArrayList<>(BATCH);
        Set<Target> touched = new LinkedHashSet<>();
        while (true) {
            Line first;
            try {
                first = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                first = null;
            }
            if (first == null) {
                warn(false);
                if (closing && queue.isEmpty()) {
                    break;
                }
                continue;
            }
            batch.add(first);
            queue.drainTo(batch, BATCH - 1);
            for (Line line : batch) {
                write(line, touched);
            }
            batch.clear();
            for (Target target : touched) {
                try {
                    target.flush();
                } catch (IOException e) {
                    failed(null, target, e, 0);
                }
            }
            touched.clear();
            warn(false);
        }
        warn(true);
        targets.values().forEach(Target::close);
    }

    private void write(Line line, Set<Target> touched) {
        write(line, touched, true);
    }

    /** Writes a line; with {@code count} false (the writer's own warnings) a failure is neither counted nor retried. */
    private void write(Line line, Set<Target> touched, boolean count) {
        String name = settings.fileName(app, line.worker(), line.stream());
        long[] retry = retries.get(name);
        long now = System.nanoTime();
        if (retry != null && now - retry[0] < 0) {
            if (count) {
                failed.incrementAndGet(); // backing off: lost, counted, reported with the rest
            }
            return;
        }
        Target target;
        try {
            target = targets.computeIfAbsent(name, opener);
        } catch (UncheckedIOException | IllegalStateException e) {
            if (count) {
                failed(name, null, e.getCause() instanceof IOException io ? io : new IOException(e.getMessage(), e), 1);
            }
            return;
        }
        try {
            target.write(format(line));
            touched.add(target);
            retries.remove(name);
        } catch (IOException e) {
            if (count) {
                failed(name, target, e, 1);
            }
        }
    }

    private void failed(String name, Target target, IOException e, int lines) {
        failed.addAndGet(lines);
        lastFailure = "cannot write " + (target == null ? name : target) + ": " + IoReason.of(e);
        if (name != null) {
            long[] retry = retries.computeIfAbsent(name, k -> new long[] {0, FIRST_RETRY.toNanos()});
            retry[0] = System.nanoTime() + retry[1];
            retry[1] = Math.min(retry[1] * 2, LONGEST_RETRY.toNanos());
        }
    }

    byte[] format(Line line) {
        if (settings.format() == LogSettings.Format.JSON) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("time", dateFormat == null ? line.time().toString() : dateFormat.format(line.time()));
            fields.put("worker", line.worker());
            fields.put("stream", line.stream());
            fields.put("message", line.message());
            try {
                return (json.writeValueAsString(fields) + "\n").getBytes(StandardCharsets.UTF_8);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        StringBuilder text = new StringBuilder(line.message().length() + 40);
        if (dateFormat != null) {
            text.append(dateFormat.format(line.time())).append(": ");
        } else if (line.worker() == null) {
            text.append(line.time()).append(' ');
        }
        if (settings.merge() && line.worker() != null) {
            text.append("[w").append(line.worker()).append(line.stream().equals("err") ? " err] " : "] ");
        }
        // a copy's carriage returns and escape sequences would forge or hide lines for whoever reads the file
        // in a terminal (tail, less -R, the logs command): escaped; the runtime's own event lines are already
        String message = line.worker() == null ? line.message() : TerminalText.clean(line.message(), false);
        return text.append(message).append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Says, at most once a second, how many lines were dropped or lost since it last said so. */
    private void warn(boolean last) {
        long now = System.nanoTime();
        if (!last && now - lastWarning < WARN_EVERY.toNanos()) {
            return;
        }
        long d = dropped.get();
        long f = failed.get();
        List<String> lines = new ArrayList<>();
        if (d > droppedReported) {
            lines.add("forkless event=logs-dropped lines=" + (d - droppedReported) + " total=" + d
                    + " reason=\"the log writer is behind\"");
            droppedReported = d;
        }
        boolean recovered = failingSince != 0 && retries.isEmpty() && f == failed.get();
        if (f > failedReported && !recovered) {
            if (failingSince == 0 || now - nextFailureReport >= 0 || last) {
                boolean first = failingSince == 0;
                lines.add("forkless event=logs-failed lines=" + (f - failedReported) + " total=" + f
                        + " reason=" + EventLog.quote(lastFailure)
                        + (last ? "" : " retry=\"with back-off; reported again in " + failureRepeat / 60_000_000_000L
                        + " min if it goes on\""));
                if (first) {
                    failingSince = now;
                    failedAtFirstReport = failedReported;
                }
                nextFailureReport = now + failureRepeat;
                failureRepeat = Math.min(failureRepeat * 2, LONGEST_REPEAT.toNanos());
                failedReported = f;
            }
        } else if (recovered) {
            lines.add("forkless event=logs-recovered lost=" + (f - failedAtFirstReport));
            failedReported = f;
            failingSince = 0;
            failureRepeat = FIRST_REPEAT.toNanos();
        }
        if (lines.isEmpty()) {
            return;
        }
        lastWarning = now;
        Set<Target> touched = new LinkedHashSet<>();
        for (String line : lines) {
            warnings.accept(line);
            write(new Line(Instant.now(), null, "events", line), touched, false);
        }
        for (Target target : touched) {
            try {
                target.flush();
            } catch (IOException ignored) {
                // counted when the next line fails too
            }
        }
    }

    /** Writes what is queued (waiting up to 5 s), then closes the files. Lines after this are dropped. */
    @Override
    public void close() {
        closing = true;
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
