package dev.forkless.runtime.cli;

import dev.forkless.runtime.registry.RegistryEntry;
import dev.forkless.runtime.registry.RuntimeRegistry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a client command finds a runtime's admin API by its app's name, and how {@code ls} shows the
 * registry. The entries are of live processes (this test's JVM, and {@code sleep}s) since the registry
 * leaves out the runtimes that are gone.
 */
class RuntimeFinderTest {

    @TempDir
    Path dir;

    private static RegistryEntry entry(ProcessHandle process, String app, Optional<String> admin) {
        return new RegistryEntry(process.pid(), process.info().startInstant(), List.of(app), "isolate", 2,
                List.of("127.0.0.1:8080"), admin, admin.map(a -> Path.of("/t/admin-" + a.substring(a.lastIndexOf(':') + 1) + ".token")),
                Optional.empty());
    }

    private Process sleeper() throws Exception {
        return new ProcessBuilder("sleep", "60").start();
    }

    @Test
    void anAppIsFoundByNameAndNoneOrTwoAreOneLineErrors() throws Exception {
        RuntimeRegistry registry = new RuntimeRegistry(dir);
        RuntimeFinder finder = new RuntimeFinder(registry);
        assertEquals("127.0.0.1:9615", address(finder.find(Optional.empty())), "nothing registered: the default address");
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> finder.find(Optional.of("demo")));
        assertTrue(none.getMessage().startsWith("no runtime runs the app 'demo'"), none.getMessage());

        Process first = sleeper();
        Process second = sleeper();
        try {
            registry.register(entry(first.toHandle(), "demo", Optional.of("http://127.0.0.1:9616")));
            RuntimeFinder.Found found = finder.find(Optional.of("demo"));
            assertEquals("127.0.0.1:9616", address(found));
            assertEquals(Optional.of(Path.of("/t/admin-9616.token")), found.tokenFile());
            assertEquals("127.0.0.1:9616", address(finder.find(Optional.empty())), "the only runtime running");

            registry.register(entry(second.toHandle(), "api", Optional.of("http://127.0.0.1:9617")));
            assertEquals("127.0.0.1:9617", address(finder.find(Optional.of("api"))));
            IllegalArgumentException which = assertThrows(IllegalArgumentException.class, () -> finder.find(Optional.empty()));
            assertTrue(which.getMessage().startsWith("2 runtimes run on this machine (demo (pid " + first.pid() + "), api (pid "),
                    which.getMessage());
            IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> finder.find(Optional.of("web")));
            assertTrue(other.getMessage().contains("running: demo (pid " + first.pid() + "), api"), other.getMessage());

            registry.register(entry(ProcessHandle.current(), "demo", Optional.of("http://127.0.0.1:9618")));
            IllegalArgumentException two = assertThrows(IllegalArgumentException.class, () -> finder.find(Optional.of("demo")));
            assertTrue(two.getMessage().startsWith("2 runtimes run the app 'demo' (pid "), two.getMessage());
            assertTrue(two.getMessage().endsWith(": choose one with --admin URL"), two.getMessage());
            assertEquals(1, two.getMessage().lines().count());

            registry.register(entry(ProcessHandle.current(), "quiet", Optional.empty()));
            IllegalArgumentException off = assertThrows(IllegalArgumentException.class, () -> finder.find(Optional.of("quiet")));
            assertTrue(off.getMessage().contains("has no admin API"), off.getMessage());

            first.destroyForcibly().waitFor();
            assertEquals("127.0.0.1:9617", address(finder.find(Optional.empty())),
                    "a runtime that is gone no longer counts; one without admin API is not a candidate");
        } finally {
            first.destroyForcibly();
            second.destroyForcibly();
        }
    }

    @Test
    void lsPrintsOneAlignedRowPerAppAndJsonWithUptime() throws Exception {
        Instant start = Instant.parse("2026-12-02T16:00:00Z");
        RegistryEntry demo = new RegistryEntry(41, Optional.of(start), List.of("demo"), "isolate", 2,
                List.of("0.0.0.0:8080"), Optional.of("http://127.0.0.1:9615"), Optional.empty(), Optional.empty());
        RegistryEntry api = new RegistryEntry(4242, Optional.of(start.plusSeconds(60)), List.of("api"), "process", 12,
                List.of("127.0.0.1:8081", "127.0.0.1:8082"), Optional.empty(), Optional.empty(), Optional.empty());
        List<String> lines = LsCommand.table(List.of(demo, api), start.plusSeconds(3725));
        assertEquals(List.of(
                "PID   APP   MODE     COPIES  ADDRESS                        ADMIN                  UPTIME",
                "41    demo  isolate  2       0.0.0.0:8080                   http://127.0.0.1:9615  1h2m",
                "4242  api   process  12      127.0.0.1:8081,127.0.0.1:8082  off                    1h1m"), lines);
        var json = LsCommand.json(List.of(demo), start.plusSeconds(5));
        assertEquals(5000, json.get(0).get("uptimeMs").asLong());
        assertEquals(41, json.get(0).get("pid").asLong());
        assertEquals("demo", json.get(0).get("apps").get(0).asText());
        assertTrue(!json.get(0).has("format"));
        assertTrue(Files.notExists(dir.resolve("41.json")));
    }

    private static String address(RuntimeFinder.Found found) {
        return found.address().host() + ":" + found.address().port();
    }
}
