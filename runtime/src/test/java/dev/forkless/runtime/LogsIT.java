package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Log files of the real runtime: two isolates writing at once, from request threads and threads they
 * started, each line whole in its own copy's file; JSON lines; rotation; the {@code logs} command.
 */
class LogsIT {

    /** What the demo's /log writes: {@code log worker=ID thread=NAME seq=N stream=out|err xxxx}. */
    private static final Pattern LINE = Pattern.compile("log worker=(\\d+) thread=(\\S+) seq=(\\d+) stream=(out|err) x{40}");
    private static final Pattern COPY_FILE = Pattern.compile("demo-(\\d+)-(out|err)\\.log(\\.\\d+)?");
    private static final int LINES = 100;
    private static final int THREADS = 4;

    @TempDir
    Path dir;

    /**
     * Sends /log requests, 4 at a time on their own connections, until both copies answered at least twice.
     *
     * @return requests answered, by copy id
     */
    private static Map<String, Integer> logFromBothCopies(InetSocketAddress address, int lines) throws Exception {
        Map<String, Integer> byCopy = new ConcurrentHashMap<>();
        try (var pool = Executors.newFixedThreadPool(4)) {
            for (int round = 0; round < 20 && (byCopy.size() < 2 || byCopy.values().stream().anyMatch(n -> n < 2)); round++) {
                List<Future<Http.Response>> answers = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    answers.add(pool.submit(() -> Http.get(address, "/log?lines=" + lines + "&threads=" + THREADS)));
                }
                for (Future<Http.Response> answer : answers) {
                    Http.Response response = answer.get();
                    assertEquals(200, response.status(), response.body());
                    Matcher m = Pattern.compile("logged \\d+ lines by (\\d+)").matcher(response.body());
                    assertTrue(m.matches(), response.body());
                    byCopy.merge(m.group(1), 1, Integer::sum);
                }
            }
        }
        assertEquals(2, byCopy.size(), "both copies served: " + byCopy);
        return byCopy;
    }

    private static List<Path> logFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> COPY_FILE.matcher(p.getFileName().toString()).matches()).sorted().toList();
        }
    }

    @Test
    void twoIsolatesWritingAtOnceEachLineWholeInItsOwnFile() throws Exception {
        Path logs = dir.resolve("logs");
        Map<String, Integer> requests;
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "0", "--logs", logs.toString())) {
            InetSocketAddress address = runtime.awaitReady();
            requests = logFromBothCopies(address, LINES);
            runtime.terminate();
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(20)), runtime.output());
        }
        Map<String, Integer> lines = new TreeMap<>();
        for (Path file : logFiles(logs)) {
            Matcher name = COPY_FILE.matcher(file.getFileName().toString());
            assertTrue(name.matches());
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.startsWith("log ")) {
                    continue;
                }
                Matcher m = LINE.matcher(line);
                assertTrue(m.matches(), file.getFileName() + ": not whole: '" + line + "'");
                assertEquals(name.group(1), m.group(1), file.getFileName() + ": another copy's line: " + line);
                assertEquals(name.group(2), m.group(4), file.getFileName() + ": the other stream's line: " + line);
                lines.merge(file.getFileName().toString(), 1, Integer::sum);
            }
        }
        // every line of every request, none lost: per request, LINES from the request thread and from each thread
        for (var copy : requests.entrySet()) {
            int expected = copy.getValue() * LINES * (THREADS + 1);
            assertEquals(expected, lines.getOrDefault("demo-" + copy.getKey() + "-out.log", 0), "out of " + copy + " " + lines);
            assertEquals(expected, lines.getOrDefault("demo-" + copy.getKey() + "-err.log", 0), "err of " + copy + " " + lines);
            // System.Logger (JUL's console handler) output lands in the copy's err file
            String err = Files.readString(logs.resolve("demo-" + copy.getKey() + "-err.log"));
            assertTrue(err.contains("WARNING: logged worker=" + copy.getKey()), err.lines().limit(10).toList().toString());
            assertTrue(!err.contains("logged worker=" + (copy.getKey().equals("1") ? "2" : "1") + "\n"));
        }
        String events = Files.readString(logs.resolve("demo-events.log"));
        assertTrue(events.contains("event=ready"), events);
        assertTrue(events.contains("event=stopping"), events);

        // the logs command: the last lines of one copy's files
        String copy = requests.keySet().iterator().next();
        try (RuntimeProcess reader = RuntimeProcess.start("logs", "--dir", logs.toString(), "--lines", "3", "--worker", copy)) {
            assertEquals(0, reader.awaitExit(Duration.ofSeconds(120)), reader.output()); // a CLI JVM, on a busy machine
            List<String> out = reader.lines();
            assertEquals(8, out.size(), reader.output());
            assertEquals("==> " + logs.resolve("demo-" + copy + "-err.log") + " <==", out.get(4), reader.output());
            assertTrue(out.get(1).startsWith("log worker=" + copy + " "), reader.output());
        }
    }

    @Test
    void jsonLinesParseAndRotationKeepsAtMostLogKeepFiles() throws Exception {
        Path logs = dir.resolve("json");
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "0", "--logs", logs.toString(),
                "--log-format", "json", "--log-max-size", "64KB", "--log-keep", "3")) {
            InetSocketAddress address = runtime.awaitReady();
            logFromBothCopies(address, 150);
            runtime.terminate();
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(20)), runtime.output());
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> filesPerLog = new TreeMap<>();
        for (Path file : logFiles(logs)) {
            Matcher name = COPY_FILE.matcher(file.getFileName().toString());
            assertTrue(name.matches());
            filesPerLog.merge("demo-" + name.group(1) + "-" + name.group(2), 1, Integer::sum);
            assertTrue(Files.size(file) <= 64 * 1024, file + ": " + Files.size(file));
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                JsonNode node = json.readTree(line);
                assertEquals(Set.of("time", "worker", "stream", "message"), fieldNames(node), line);
                assertEquals(name.group(1), node.get("worker").asText(), line);
                assertEquals(name.group(2), node.get("stream").asText(), line);
                java.time.Instant.parse(node.get("time").asText());
                String message = node.get("message").asText();
                if (message.startsWith("log ")) {
                    assertTrue(LINE.matcher(message).matches(), "not whole: " + line);
                }
            }
        }
        // 2 copies x 2 streams, each written well past 64KB x 3
        assertEquals(4, filesPerLog.size(), filesPerLog.toString());
        filesPerLog.forEach((log, n) -> assertEquals(3, n, log + " " + filesPerLog));
        JsonNode event = json.readTree(Files.readAllLines(logs.resolve("demo-events.log")).getFirst());
        assertEquals("events", event.get("stream").asText());
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new java.util.HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
