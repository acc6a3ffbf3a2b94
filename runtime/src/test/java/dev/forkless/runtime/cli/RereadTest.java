package dev.forkless.runtime.cli;

import dev.forkless.runtime.RuntimeSettings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@code reload --update-env}'s re-reading: the runtime's command line and config file, flags over the file. */
class RereadTest {

    @TempDir
    Path dir;

    private Path file(String greeting, String drain) throws Exception {
        return Files.writeString(dir.resolve("forkless.yaml"), """
                app: demo.jar
                args: [--port, "0"]
                drainTimeout: %s
                readyTimeout: 7s
                env:
                  GREETING: %s
                env_production:
                  GREETING: %s in production
                """.formatted(drain, greeting, greeting));
    }

    @Test
    void theFileIsReadAgainAndTheFlagsStillWin() throws Exception {
        Path file = file("old", "2s");
        Main main = new Main(System.err, List.of("--config", file.toString(), "--env", "production",
                "--ready-timeout", "9s"));
        RuntimeSettings first = main.reread();
        assertEquals(Map.of("GREETING", "old in production"), first.config().environment());
        assertEquals(Duration.ofSeconds(9), first.config().readyTimeout(), "the flag wins over the file");
        file("new", "4s");
        RuntimeSettings again = main.reread();
        assertEquals(Map.of("GREETING", "new in production"), again.config().environment());
        assertEquals(Duration.ofSeconds(4), again.config().restartPolicy().drainTimeout());
        assertEquals(Duration.ofSeconds(9), again.config().readyTimeout());
        assertEquals(List.of("--port", "0"), again.args());
        assertEquals(dir.resolve("demo.jar").toAbsolutePath().normalize().toString(), again.fixed().get("app"));
    }

    @Test
    void aBadFileIsTheOneLineAStartGives() throws Exception {
        Path file = file("old", "2s");
        Main main = new Main(System.err, List.of("--config", file.toString()));
        Files.writeString(file, "app: demo.jar\nisolates: lots\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, main::reread);
        assertEquals(file + ":2: isolates: expected a number or \"max\"", e.getMessage());
        Files.writeString(file, "app: demo.jar\ndrainTimeout: 2h\n");
        assertEquals("drainTimeout must be between 0 and 1h, not 2h",
                assertThrows(IllegalArgumentException.class, main::reread).getMessage().replaceFirst("^.*?:\\d+: ", ""));
    }
}
