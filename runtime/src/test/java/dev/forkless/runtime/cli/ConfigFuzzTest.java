package dev.forkless.runtime.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the config file: mutations of valid YAML and JSON files (bytes flipped, cut, repeated, YAML's
 * anchors, tags, merge keys and directives dropped in, huge numbers and durations, deep nesting), each
 * read by the CLI as {@code --config FILE} names it. None names a real app, so every run ends in one
 * line and exit code 2: never a stack trace, never a second line, never a hang. Seeded, so a failure
 * repeats; 25 s (about 100 runs on a busy 2-core machine, thousands on a quiet one).
 */
class ConfigFuzzTest {

    private static final String YAML = """
            app: target/shop.jar
            args: ["--port", "8080"]
            isolates: 4
            mode: isolate
            standby: 1
            readyTimeout: 3s
            drainTimeout: 5s
            maxRestarts: 16
            restartDelay: 100ms
            maxRestartDelay: 15s
            hangTimeout: 10s
            watch: false
            logs: logs
            logMaxSize: 10MB
            logKeep: 5
            logDateFormat: "yyyy-MM-dd HH:mm:ss.SSS"
            adminToken: change-me-to-a-long-random-token
            env:
              GREETING: hello
              CACHE_SIZE: 100
            env_production:
              GREETING: hello from production
            """;
    private static final String JSON = """
            {"app": "target/shop.jar", "args": ["--port", "8080"], "isolates": "max", "standby": 0,
             "drainTimeout": 5000, "logMaxSize": "512KB", "jvmArgs": ["-Xmx256m"], "env": {"A": 1, "B": true}}
            """;
    private static final List<String> INSERTS = List.of(
            ":", "{", "}", "[", "]", "&a ", "*a", "!!", "!!java.lang.Runtime ", "? ", "<<: *a\n", "%YAML 1.1\n---\n",
            "---\n", "...\n", "|\n  ", ">-\n", "#", "'", "\"", "\n", "\t", " ", ",", "-", "\\", "\u0000", "\u00e9",
            "\ud83d\ude00", "\r", "\u001b[2J", "9".repeat(40), "99999999999999999999999h", "-1", "1e400", ".inf", "NaN",
            "PT9999999999999H", "2147483648", "-9223372036854775809", "[".repeat(300), "{a: ".repeat(300),
            "x: &a [1,2]\ny: &b [*a,*a,*a,*a]\nz: [*b,*b,*b,*b]\n", "isolates: 2147483647\n", "standby: 100000\n",
            "drainTimeout: 9223372036854775807\n", "adminToken: x\n", "logKeep: 0\n", "env_:\n", "env:\n  K:\n    - 1\n");

    @TempDir
    Path dir;

    @Test
    void mutatedConfigFilesAreOneLineAndExitTwo() throws Exception {
        long seed = 14;
        Random random = new Random(seed);
        long end = System.nanoTime() + Duration.ofSeconds(25).toNanos();
        int runs = 0;
        while (System.nanoTime() < end && runs < 5000) {
            boolean json = random.nextBoolean();
            String text = mutate(json ? JSON : YAML, random);
            Path file = dir.resolve(runs + (json ? ".json" : ".yaml"));
            Files.write(file, text.getBytes(StandardCharsets.UTF_8)); // a lone surrogate a mutation made becomes ?
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int run = runs;
            int code = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> Main.run(
                    new String[] {"--admin", "off", "--config", file.toString()},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)),
                    () -> "run " + run + " (seed " + seed + ") hangs on:\n" + text);
            String error = err.toString(StandardCharsets.UTF_8);
            String what = "run " + run + " (seed " + seed + "), file:\n" + text + "\nsaid:\n" + error;
            assertEquals(2, code, what);
            assertEquals(1, error.lines().count(), "one line: " + what);
            assertTrue(error.startsWith("forkless: "), what);
            assertFalse(error.contains("\tat ") || error.contains("Exception in"), what);
            assertTrue(error.length() < 600, "short: " + what);
            assertEquals("", out.toString(StandardCharsets.UTF_8), what);
            Files.delete(file);
            runs++;
        }
        assertTrue(runs >= 50, "only " + runs + " runs");
    }

    private static String mutate(String text, Random random) {
        StringBuilder s = new StringBuilder(text);
        int mutations = 1 + random.nextInt(4);
        for (int i = 0; i < mutations; i++) {
            int at = random.nextInt(s.length() + 1);
            switch (random.nextInt(5)) {
                case 0 -> s.insert(at, INSERTS.get(random.nextInt(INSERTS.size())));
                case 1 -> {
                    if (at < s.length()) {
                        s.setCharAt(at, (char) (0x20 + random.nextInt(0x60)));
                    }
                }
                case 2 -> s.delete(at, Math.min(s.length(), at + random.nextInt(20)));
                case 3 -> {
                    int from = random.nextInt(s.length() + 1);
                    int to = Math.min(s.length(), from + random.nextInt(60));
                    s.insert(at, s.substring(from, to));
                }
                default -> {
                    // a line's value replaced by something odd
                    int line = s.indexOf(": ", at);
                    if (line >= 0) {
                        int eol = s.indexOf("\n", line);
                        s.replace(line + 2, eol < 0 ? s.length() : eol, INSERTS.get(random.nextInt(INSERTS.size())));
                    }
                }
            }
        }
        return s.toString();
    }
}
