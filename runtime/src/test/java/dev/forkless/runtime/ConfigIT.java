package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The config file with the real runtime: settings, flags over them, the env block the app sees, errors. */
class ConfigIT {

    private static final Pattern WHOAMI = Pattern.compile("\\{\"isolate\":\"(\\d+)\",\"pid\":(\\d+),\"mode\":\"(\\w+)\"}");

    @TempDir
    Path dir;

    private Path config(String mode) throws Exception {
        return Files.writeString(dir.resolve("forkless.yaml"), """
                # the demo, three copies (the command line asks for two), its env blocks
                app: %s
                args: [--port, "0", --host, 127.0.0.1]
                isolates: 3
                standby: 0
                mode: %s
                drainTimeout: 2s
                env:
                  GREETING: hello
                  ONLY_IN_ENV: base
                env_production:
                  GREETING: hello from production
                  CACHE_SIZE: 100
                """.formatted(RuntimeProcess.demoJar(), mode));
    }

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"isolate", "process"})
    void envProductionIsWhatTheAppSeesAndFlagsOverrideTheFile(String mode) throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.start("--config", config(mode).toString(), "--env", "production",
                "--isolates", "2")) {
            InetSocketAddress address = runtime.awaitReady();
            assertTrue(runtime.hasLine(l -> l.startsWith("forkless ready: 2 " + mode)), runtime.output());
            assertEquals("hello from production", Http.get(address, "/env/GREETING").body());
            assertEquals("100", Http.get(address, "/env/CACHE_SIZE").body());
            assertEquals("base", Http.get(address, "/env/ONLY_IN_ENV").body());
            assertEquals(404, Http.get(address, "/env/FORKLESS_NO_SUCH_VARIABLE").status());
            assertEquals(System.getenv("PATH"), Http.get(address, "/env/PATH").body(), "the runtime's own environment");
            // each copy sees its own id: the ids the app reports are those of the copies that became ready
            java.util.Set<String> ids = new java.util.HashSet<>();
            // one request per round: the runtime hands fresh connections to the copies in turn, so two
            // requests a round would always ask the same copy for its id
            java.util.Set<String> whoami = new java.util.HashSet<>();
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                Http.Response who = Http.get(address, "/whoami");
                Matcher m = WHOAMI.matcher(who.body());
                assertTrue(m.matches(), who.body());
                assertEquals(mode, m.group(3));
                whoami.add(m.group(1));
                return whoami.size() >= 2;
            });
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                ids.add(Http.get(address, "/env/FORKLESS_WORKER_ID").body());
                return ids.size() >= 2;
            });
            for (String id : ids) {
                assertTrue(runtime.hasLine(l -> l.matches("forkless " + mode + "=" + id + " event=ready.*")),
                        "no copy " + id + ": " + runtime.output());
            }
        }
    }

    @Test
    void withoutEnvTheBaseBlock() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.start("--config", config("isolate").toString(), "--isolates", "1")) {
            InetSocketAddress address = runtime.awaitReady();
            assertEquals("hello", Http.get(address, "/env/GREETING").body());
            assertEquals(404, Http.get(address, "/env/CACHE_SIZE").status());
        }
    }

    @Test
    void aMalformedFileExitsTwoWithOneLineNamingTheKey() throws Exception {
        Path bad = Files.writeString(dir.resolve("forkless.yaml"), "app: demo.jar\nstandby: 0\n\nisolates: lots\n");
        try (RuntimeProcess runtime = RuntimeProcess.start("--config", bad.toString())) {
            assertEquals(2, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
            assertEquals(java.util.List.of("forkless: " + bad + ":4: isolates: expected a number or \"max\""), runtime.lines());
        }
    }
}
