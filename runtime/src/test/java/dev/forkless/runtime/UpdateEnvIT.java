package dev.forkless.runtime;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code reload --update-env} with the real runtime: the config file's env block changes, the copies are
 * replaced under keep-alive load without a failed request and answer the new value; a new port or mode
 * is said, not applied; a broken file is refused and the copies keep the old value.
 */
class UpdateEnvIT {

    @TempDir
    Path dir;

    private Path config(String mode, String port, String admin, String greeting) throws Exception {
        return Files.writeString(dir.resolve("forkless.yaml"), """
                app: %s
                args: [--port, "%s", --host, 127.0.0.1]
                isolates: 2
                standby: 0
                mode: %s
                readyTimeout: 30s
                drainTimeout: 2s
                admin: %s
                env:
                  GREETING: %s
                """.formatted(RuntimeProcess.demoJar(), port, mode, admin, greeting));
    }

    private static Admin.Cli updateEnv(Admin admin) throws Exception {
        return Admin.cli("reload", "--update-env", "--admin", admin.address(), "--token-file", admin.tokenFile().toString());
    }

    /** @return what {@code count} fresh connections, handed to the copies in turn, answer for GREETING */
    private static Set<String> greetings(InetSocketAddress address, int count) throws Exception {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < count; i++) {
            Http.Response response = Http.get(address, "/env/GREETING");
            assertEquals(200, response.status(), response.body());
            seen.add(response.body());
        }
        return seen;
    }

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"isolate", "process"})
    void aNewEnvValueReachesEveryCopyUnderLoadWithoutAFailedRequest(String mode) throws Exception {
        Path file = config(mode, "0", "127.0.0.1:0", "old");
        try (RuntimeProcess runtime = RuntimeProcess.start("--config", file.toString())) {
            InetSocketAddress address = runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            assertEquals(Set.of("old"), greetings(address, 6));
            config(mode, "0", "127.0.0.1:0", "new");
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 8, Duration.ofSeconds(180));
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > 200);
                Admin.Cli cli = updateEnv(admin);
                assertEquals(0, cli.exitCode(), cli + "\n" + runtime.output());
                assertEquals(List.of("reload --update-env: done, 2 copies started, applied: env"), cli.out(), cli.toString());
                long okAfter = load.ok();
                await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > okAfter + 100);
            } finally {
                load.close();
            }
            assertEquals(0, load.failed(), load.summary());
            assertEquals(Set.of("new"), greetings(address, 6), "every copy answers the new value");
            assertTrue(runtime.hasLine(l -> l.equals("forkless event=settings-changed applied=\"env\"")), runtime.output());
            assertTrue(runtime.hasLine(l -> l.contains("event=reloading trigger=\"admin API --update-env\"")), runtime.output());
            assertTrue(runtime.hasLine(l -> l.contains("event=reloaded ok=true replaced=2")), runtime.output());
        }
    }

    @Test
    void aNewPortAndAdminAreSaidNotAppliedAndTheRestIsApplied() throws Exception {
        Path file = config("isolate", "0", "127.0.0.1:0", "old");
        try (RuntimeProcess runtime = RuntimeProcess.start("--config", file.toString())) {
            InetSocketAddress address = runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            config("process", "18080", "127.0.0.1:1", "new");
            Admin.Cli cli = updateEnv(admin);
            assertEquals(0, cli.exitCode(), cli + "\n" + runtime.output());
            assertEquals(List.of("reload --update-env: done, 2 copies started, applied: env",
                    "not applied (needs a restart): port, args, mode, admin"), cli.out(), cli.toString());
            assertTrue(runtime.hasLine(l -> l.equals("forkless event=settings-changed applied=\"env\" "
                    + "not-applied=\"needs a restart: port, args, mode, admin\"")), runtime.output());
            assertEquals(Set.of("new"), greetings(address, 4), "the env applies; the copies keep the runtime's port");
            assertTrue(runtime.hasLine(l -> l.matches("forkless isolate=\\d+ event=ready.*")), "still isolates");
            // the API says the same, as JSON
            HttpResponse<String> api = admin.post("/api/reload?updateEnv=true");
            assertEquals(200, api.statusCode(), api.body());
            assertTrue(api.body().contains("\"applied\":[]") && api.body().contains("\"notApplied\":[\"port\",\"args\",\"mode\",\"admin\"]"),
                    api.body());
        }
    }

    @Test
    void aBrokenConfigFileIsRefusedAndTheCopiesKeepTheOldValue() throws Exception {
        Path file = config("isolate", "0", "127.0.0.1:0", "old");
        try (RuntimeProcess runtime = RuntimeProcess.start("--config", file.toString())) {
            InetSocketAddress address = runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            Files.writeString(file, Files.readString(file).replace("isolates: 2", "isolates: lots")
                    .replace("GREETING: old", "GREETING: new"));
            Admin.Cli cli = updateEnv(admin);
            assertEquals(2, cli.exitCode(), cli.toString());
            assertEquals(List.of("forkless: " + file + ":3: isolates: expected a number or \"max\""), cli.err(), cli.toString());
            assertEquals(List.of(), cli.out());
            HttpResponse<String> api = admin.post("/api/reload?updateEnv=true");
            assertEquals(400, api.statusCode(), api.body());
            assertTrue(api.body().contains("isolates: expected a number"), api.body());
            assertEquals(Set.of("old"), greetings(address, 4));
            assertTrue(!runtime.hasLine(l -> l.contains("event=reloading")), "nothing was reloaded: " + runtime.output());
        }
    }
}
