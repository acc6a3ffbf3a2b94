package dev.forkless.runtime.log;

import dev.forkless.runtime.ForklessEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The log writer on its own: rotation, JSON lines, a stalled disk, a full disk. */
class LogWriterTest {

    @TempDir
    Path dir;

    private static List<Path> files(Path dir, String prefix) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
        }
    }

    @Test
    void rotationKeepsAtMostKeepFilesOfALog() throws IOException {
        LogSettings settings = LogSettings.in(dir).withRotation(4096, 3);
        List<String> warnings = new CopyOnWriteArrayList<>();
        try (LogWriter writer = LogWriter.toFiles(settings, "app", warnings::add)) {
            for (int i = 0; i < 2000; i++) {
                writer.line("1", "out", "line " + i + " " + "x".repeat(50));
            }
        }
        List<Path> out = files(dir, "app-1-out.log");
        assertEquals(List.of("app-1-out.log", "app-1-out.log.1", "app-1-out.log.2"),
                out.stream().map(p -> p.getFileName().toString()).toList());
        for (Path file : out) {
            assertTrue(Files.size(file) <= 4096, file + " " + Files.size(file));
        }
        List<String> live = Files.readAllLines(dir.resolve("app-1-out.log"));
        assertTrue(live.getLast().startsWith("line 1999 "), live.getLast());
        List<String> older = Files.readAllLines(dir.resolve("app-1-out.log.1"));
        int lastOlder = Integer.parseInt(older.getLast().split(" ")[1]);
        int firstLive = Integer.parseInt(live.getFirst().split(" ")[1]);
        assertEquals(lastOlder + 1, firstLive, "rotation loses no line between files");
        assertEquals(List.of(), warnings);
    }

    @Test
    void jsonLinesHaveTimeWorkerStreamAndMessage() throws IOException {
        LogSettings settings = LogSettings.in(dir).withFormat(LogSettings.Format.JSON).withMerge(true)
                .withDateFormat("yyyy-MM-dd HH:mm:ss.SSS");
        try (LogWriter writer = LogWriter.toFiles(settings, "app", w -> { })) {
            writer.line("1", "out", "plain");
            writer.line("2", "err", "quote \" backslash \\ tab \t unicode é ✓");
            writer.accept(new ForklessEvent.Scaled(Instant.now(), 1, 2));
        }
        ObjectMapper json = new ObjectMapper();
        List<String> merged = Files.readAllLines(dir.resolve("app.log"), StandardCharsets.UTF_8);
        assertEquals(2, merged.size(), merged.toString());
        JsonNode first = json.readTree(merged.get(0));
        assertEquals("1", first.get("worker").asText());
        assertEquals("out", first.get("stream").asText());
        assertEquals("plain", first.get("message").asText());
        assertTrue(first.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}"), merged.get(0));
        JsonNode second = json.readTree(merged.get(1));
        assertEquals("quote \" backslash \\ tab \t unicode é ✓", second.get("message").asText());
        assertEquals("err", second.get("stream").asText());
        JsonNode event = json.readTree(Files.readAllLines(dir.resolve("app-events.log")).getFirst());
        assertTrue(event.get("worker").isNull());
        assertEquals("events", event.get("stream").asText());
        assertEquals("forkless event=scaled from=1 to=2", event.get("message").asText());
    }

    @Test
    void textLinesOfAMergedFileAreTagged() throws IOException {
        try (LogWriter writer = LogWriter.toFiles(LogSettings.in(dir).withMerge(true), "app", w -> { })) {
            writer.line("3", "out", "hello");
            writer.line("4", "err", "oops");
        }
        assertEquals(List.of("[w3] hello", "[w4 err] oops"), Files.readAllLines(dir.resolve("app.log")));
    }

    /** A disk that stalls: lines beyond the queue's bound are dropped and counted, the caller never waits. */
    @Test
    void aStalledDiskDropsLinesAndSaysHowMany() throws Exception {
        CountDownLatch stalled = new CountDownLatch(1);
        List<String> written = new CopyOnWriteArrayList<>();
        List<String> warnings = new CopyOnWriteArrayList<>();
        LogWriter writer = new LogWriter(LogSettings.in(dir), "app", name -> new Target(written, () -> {
            try {
                stalled.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }), 100, warnings::add);
        long start = System.nanoTime();
        for (int i = 0; i < 5000; i++) {
            writer.line("1", "out", "line " + i);
        }
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2000, "the caller waited for the disk");
        // the queue holds 100; the writer took at most one batch (1024) before the disk stalled
        assertTrue(writer.dropped() >= 5000 - 100 - 1024, "dropped " + writer.dropped());
        stalled.countDown();
        writer.close();
        assertEquals(5000 - writer.dropped(), written.stream().filter(l -> l.startsWith("line")).count());
        assertTrue(warnings.stream().anyMatch(w -> w.startsWith("forkless event=logs-dropped lines=")
                && w.contains(" total=" + writer.dropped() + " ")), warnings.toString());
    }

    /** A full disk: lines are lost and counted, the writer keeps going and writes again once there is room. */
    @Test
    void aFullDiskLosesLinesButNotTheWriter() throws Exception {
        AtomicBoolean full = new AtomicBoolean(true);
        List<String> written = new CopyOnWriteArrayList<>();
        List<String> warnings = new CopyOnWriteArrayList<>();
        try (LogWriter writer = new LogWriter(LogSettings.in(dir), "app", name -> new Target(written, () -> {
            if (full.get()) {
                throw new java.io.UncheckedIOException(new IOException("No space left on device"));
            }
        }), 1000, warnings::add)) {
            for (int i = 0; i < 10; i++) {
                writer.line("1", "out", "lost " + i);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> writer.failed() >= 10);
            await().atMost(Duration.ofSeconds(5)).until(() -> warnings.stream().anyMatch(w -> w.contains("event=logs-failed")));
            full.set(false);
            // lines meant for the file while it backs off (a second after the first failure) are lost too
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
                writer.line("1", "out", "kept");
                return written.contains("kept");
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> warnings.stream().anyMatch(w -> w.contains("event=logs-recovered")));
        }
        assertTrue(warnings.stream().anyMatch(w -> w.contains("No space left on device")), warnings.toString());
        assertEquals(1, warnings.stream().filter(w -> w.contains("event=logs-failed")).count(),
                "a failure is reported once, not every second: " + warnings);
    }

    /** A folder that breaks for good: one report, not an event a second for ever. */
    @Test
    void aFolderThatKeepsFailingIsReportedOnce() throws Exception {
        List<String> warnings = new CopyOnWriteArrayList<>();
        try (LogWriter writer = new LogWriter(LogSettings.in(dir), "app", name -> {
            throw new java.io.UncheckedIOException(new java.nio.file.AccessDeniedException(dir.resolve(name).toString()));
        }, 1000, warnings::add)) {
            // a copy that prints now and then, for 4 s (four of the writer's retries): the failure is reported
            // once, from the first line on, and never again while the folder keeps failing
            java.util.concurrent.Callable<Boolean> printsAndIsReportedOnce = () -> {
                writer.line("1", "out", "lost");
                writer.accept(new ForklessEvent.Scaled(Instant.now(), 1, 2));
                return warnings.stream().filter(w -> w.contains("event=logs-failed")).count() == 1;
            };
            // the first report may come late on a busy machine; from then on it is not repeated
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(printsAndIsReportedOnce);
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(printsAndIsReportedOnce);
            assertTrue(writer.failed() > 0);
        }
        List<String> failures = warnings.stream().filter(w -> w.contains("event=logs-failed")).toList();
        // one while it ran, one final count at close
        assertTrue(failures.size() <= 2, "reported once, not every second: " + warnings);
        assertTrue(failures.getFirst().contains("Permission denied"), "the system's reason: " + failures);
    }

    /** A target in memory that runs {@code before} before each write. */
    private record Target(List<String> written, Runnable before) implements LogWriter.Target {
        @Override
        public void write(byte[] line) throws IOException {
            try {
                before.run();
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
            written.add(new String(line, StandardCharsets.UTF_8).strip());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

}
