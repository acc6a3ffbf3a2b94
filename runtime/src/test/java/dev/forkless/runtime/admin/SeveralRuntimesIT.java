package dev.forkless.runtime.admin;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two runtimes on one machine, both started with the default admin settings: each has an admin API (the
 * second on the next free port), {@code forkless ls} lists both, the client commands find each by its
 * app's name, and a runtime killed with SIGKILL is no longer listed. Their Forkless folder is the test's
 * ({@code FORKLESS_HOME}), not the user's.
 */
class SeveralRuntimesIT {

    @TempDir
    Path dir;

    private Map<String, String> environment() {
        return Map.of("FORKLESS_HOME", dir.resolve("home").toString());
    }

    private RuntimeProcess start(Path jar, String... options) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--isolates", "1", "--standby", "0"));
        args.addAll(List.of(options));
        args.addAll(List.of(jar.toString(), "--port", "0", "--host", "127.0.0.1"));
        return RuntimeProcess.startWithEnvironment(environment(), args.toArray(String[]::new));
    }

    private Admin.Cli cli(String... args) throws Exception {
        return Admin.cliWithEnvironment(environment(), args);
    }

    private JsonNode ls() throws Exception {
        Admin.Cli ls = cli("ls", "--json");
        assertEquals(0, ls.exitCode(), ls.err().toString());
        return new ObjectMapper().readTree(String.join("\n", ls.out()));
    }

    @Test
    void twoRuntimesWithDefaultAdminSettingsAreBothListedAndFoundByTheirAppsName() throws Exception {
        Path shop = Files.copy(RuntimeProcess.artifact("forkless.demo.fatjar"), dir.resolve("shop.jar"));
        Path registry = dir.resolve("home").resolve("runtimes");
        ServerSocket defaultPort = null;
        try {
            defaultPort = new ServerSocket(AdminAddress.DEFAULT_PORT, 50, InetAddress.getLoopbackAddress());
        } catch (java.io.IOException taken) {
            // taken by another runtime on this machine already: the same case
        }
        try (RuntimeProcess demo = start(RuntimeProcess.demoJar());
             RuntimeProcess other = start(shop, "--logs", dir.resolve("logs").toString())) {
            InetSocketAddress demoAddress = demo.awaitReady();
            InetSocketAddress shopAddress = other.awaitReady();
            Admin demoAdmin = Admin.of(demo);
            Admin shopAdmin = Admin.of(other);
            // held by the test, the default port is taken for both; taken by someone else, it may be free again
            int lowest = defaultPort != null ? AdminAddress.DEFAULT_PORT + 1 : AdminAddress.DEFAULT_PORT;
            if (defaultPort != null) {
                defaultPort.close();
            }
            // 1. each has its admin API, on a port of its own after the taken default
            assertFalse(demo.hasLine(l -> l.contains("warning")), demo.output());
            assertFalse(other.hasLine(l -> l.contains("warning")), other.output());
            assertNotEquals(demoAdmin.port(), shopAdmin.port());
            for (Admin admin : List.of(demoAdmin, shopAdmin)) {
                assertTrue(admin.port() >= lowest && admin.port() <= AdminAddress.DEFAULT_PORT + 20,
                        "the next free port after the default (the test held it: " + (lowest > AdminAddress.DEFAULT_PORT) + "): " + admin.url());
                assertEquals(200, admin.get("/health/ready").statusCode());
                assertTrue(admin.tokenFile().startsWith(dir.resolve("home")), admin.tokenFile().toString());
            }

            // 2. ls lists both, with their apps, addresses and admin URLs
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(registry.resolve(other.pid() + ".json"))
                    && Files.exists(registry.resolve(demo.pid() + ".json")));
            JsonNode both = ls();
            assertEquals(2, both.size(), both.toString());
            JsonNode first = both.get(0).get("pid").asLong() == demo.pid() ? both.get(0) : both.get(1);
            JsonNode second = first == both.get(0) ? both.get(1) : both.get(0);
            assertEquals(demo.pid(), first.get("pid").asLong());
            assertEquals("demo", first.get("apps").get(0).asText());
            assertEquals("isolate", first.get("mode").asText());
            assertEquals(1, first.get("copies").asInt());
            assertEquals("127.0.0.1:" + demoAddress.getPort(), first.get("addresses").get(0).asText());
            assertEquals(demoAdmin.url().toString(), first.get("admin").asText());
            assertEquals(demoAdmin.tokenFile().toString(), first.get("tokenFile").asText());
            assertEquals(other.pid(), second.get("pid").asLong());
            assertEquals("shop", second.get("apps").get(0).asText());
            assertEquals("127.0.0.1:" + shopAddress.getPort(), second.get("addresses").get(0).asText());
            assertEquals(shopAdmin.url().toString(), second.get("admin").asText());
            assertEquals(dir.resolve("logs").toString(), second.get("logs").asText());
            assertTrue(first.get("logs").isNull(), first.toString());
            Admin.Cli table = cli("ls");
            assertEquals(0, table.exitCode(), table.err().toString());
            assertEquals(3, table.out().size(), table.out().toString());
            assertTrue(table.out().getFirst().startsWith("PID") && table.out().getFirst().contains("UPTIME"), table.out().toString());
            assertTrue(table.out().stream().anyMatch(l -> l.startsWith(demo.pid() + " ") && l.contains(" demo ")
                    && l.contains(demoAdmin.url().toString())), table.out().toString());
            assertTrue(table.out().stream().anyMatch(l -> l.startsWith(other.pid() + " ") && l.contains(" shop ")),
                    table.out().toString());

            // 3. the client commands find a runtime by its app's name, token included
            Admin.Cli list = cli("list", "shop");
            assertEquals(0, list.exitCode(), list.err().toString());
            assertTrue(list.out().size() == 2 && list.out().get(1).contains("ready"), list.out().toString());
            Admin.Cli scale = cli("scale", "shop", "2");
            assertEquals(0, scale.exitCode(), scale.err().toString());
            assertEquals(List.of("scale to 2: done, 1 copy started"), scale.out());
            assertEquals(2, shopAdmin.get("/api/workers").body().split("\"state\":\"ready\"", -1).length - 1);
            // each look starts a CLI JVM: seconds each on a busy machine
            await().atMost(Duration.ofSeconds(120)).until(() -> ls().findValues("copies").stream()
                    .map(JsonNode::asInt).sorted().toList().equals(List.of(1, 2)));
            Admin.Cli logs = cli("logs", "shop", "-n", "3");
            assertEquals(0, logs.exitCode(), logs.err().toString());
            assertTrue(logs.out().contains("==> " + dir.resolve("logs").resolve("shop-events.log") + " <=="), logs.out().toString());
            Admin.Cli noLogs = cli("logs", "demo");
            assertEquals(2, noLogs.exitCode(), noLogs.err().toString());
            assertEquals(List.of("forkless: the runtime that runs 'demo' (pid " + demo.pid()
                    + ") writes no log files (start it with --logs DIR)"), noLogs.err());
            Admin.Cli unknown = cli("reload", "nosuch");
            assertEquals(2, unknown.exitCode(), unknown.err().toString());
            assertEquals(1, unknown.err().size(), unknown.err().toString());
            assertTrue(unknown.err().getFirst().startsWith("forkless: no runtime runs the app 'nosuch' (running: "),
                    unknown.err().toString());
            Admin.Cli which = cli("reload");
            assertEquals(2, which.exitCode(), which.err().toString());
            assertEquals(1, which.err().size(), which.err().toString());
            assertTrue(which.err().getFirst().startsWith("forkless: 2 runtimes run on this machine"), which.err().toString());
            assertFalse(demo.hasLine(l -> l.contains("event=reloading")), "nothing was reloaded");

            // 4. a runtime killed with SIGKILL leaves its file, and is not listed
            Path demoFile = registry.resolve(demo.pid() + ".json");
            demo.process().destroyForcibly();
            assertTrue(demo.process().waitFor(30, TimeUnit.SECONDS));
            assertTrue(Files.exists(demoFile), "SIGKILL left the file");
            JsonNode left = ls();
            assertEquals(1, left.size(), left.toString());
            assertEquals(other.pid(), left.get(0).get("pid").asLong());
            assertFalse(Files.exists(demoFile), "ls removed the stale file");
            Admin.Cli reload = cli("reload");
            assertEquals(0, reload.exitCode(), "the only runtime left is found without a name: " + reload.err());

            // 5. a runtime stopped with SIGTERM removes its file and token file
            Path shopFile = registry.resolve(other.pid() + ".json");
            other.terminate();
            assertEquals(0, other.awaitExit(Duration.ofSeconds(60)), other.output());
            assertFalse(Files.exists(shopFile), other.output());
            assertFalse(Files.exists(shopAdmin.tokenFile()));
            Admin.Cli none = cli("ls");
            assertEquals(0, none.exitCode());
            assertEquals(1, none.out().size(), none.out().toString());
            assertTrue(none.out().getFirst().startsWith("no runtime runs on this machine"), none.out().toString());
        } finally {
            if (defaultPort != null) {
                defaultPort.close();
            }
        }
    }
}
