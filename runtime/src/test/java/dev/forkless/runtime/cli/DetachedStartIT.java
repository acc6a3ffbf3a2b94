package dev.forkless.runtime.cli;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code forkless start}: the runtime runs on in the background after the command returns, serves,
 * {@code describe} shows it and {@code stop APP} leaves nothing; a start that fails says why in one line,
 * exits 2 and leaves nothing running. The runtimes' Forkless folder is the test's ({@code FORKLESS_HOME}).
 */
class DetachedStartIT {

    private static final Pattern STARTED = Pattern.compile(
            "started shop: pid (\\d+), 2 isolates on 127\\.0\\.0\\.1:(\\d+), admin (http://127\\.0\\.0\\.1:\\d+), log (.+)");

    @TempDir
    Path dir;

    private Path home() {
        return dir.resolve("home");
    }

    private Admin.Cli cli(String... args) throws Exception {
        return Admin.cliWithEnvironment(Map.of("FORKLESS_HOME", home().toString()), args);
    }

    /** The runtimes this test started: their command line names the test's Forkless folder. */
    private List<ProcessHandle> runtimes() {
        String marker = "-Dforkless.home=" + home().toAbsolutePath();
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> Arrays.asList(a).contains(marker)).orElse(false))
                .toList();
    }

    @AfterEach
    void killWhatIsLeft() {
        for (ProcessHandle p : runtimes()) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void startReturnsWithTheRuntimeServingDescribeShowsItAndStopLeavesNothing() throws Exception {
        Path shop = Files.copy(RuntimeProcess.artifact("forkless.demo.fatjar"), dir.resolve("shop.jar"));
        Path config = Files.writeString(dir.resolve("shop.yml"), "env:\n  DB_PASSWORD: hunter2\n  REGION: eu-west-1\n");
        long began = System.nanoTime();
        Admin.Cli start = cli("start", "--config", config.toString(), "--isolates", "2", "--standby", "0", shop.toString(),
                "--port", "0", "--host", "127.0.0.1");
        Duration took = Duration.ofNanos(System.nanoTime() - began);
        assertEquals(0, start.exitCode(), start.err().toString());
        assertEquals(1, start.out().size(), start.out().toString());
        Matcher started = STARTED.matcher(start.out().getFirst());
        assertTrue(started.matches(), start.out().toString());
        // it returns once the copies serve, not at some timeout (a busy machine's JVM and copy starts take long)
        assertTrue(took.compareTo(Duration.ofSeconds(120)) < 0, "start took " + took);
        long pid = Long.parseLong(started.group(1));
        int port = Integer.parseInt(started.group(2));
        Path log = home().resolve("logs").resolve("shop.log");
        assertEquals(log.toString(), started.group(4));

        // 1. the runtime runs on after start returned, in a session of its own, and serves
        ProcessHandle runtime = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no runtime " + pid));
        assertTrue(runtime.isAlive());
        assertEquals(List.of(runtime), runtimes());
        assertEquals(200, Http.get(new InetSocketAddress("127.0.0.1", port), "/").status());
        Path registryFile = home().resolve("runtimes").resolve(pid + ".json");
        assertTrue(Files.exists(registryFile));
        assertTrue(Files.readString(log).contains("forkless ready: 2 isolates"), Files.readString(log));
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        assertEquals(String.valueOf(pid), fields[3], "the runtime leads its own session: " + stat);

        // 2. describe: the app and its two copies, instance numbers 0 and 1
        Admin.Cli describe = cli("describe", "shop");
        assertEquals(0, describe.exitCode(), describe.err().toString());
        String text = String.join("\n", describe.out());
        assertTrue(describe.out().getFirst().startsWith("shop (runtime pid " + pid + ", up "), text);
        assertTrue(text.contains("jar        " + shop.toAbsolutePath()), text);
        assertTrue(text.contains("copies     2 serving, 0 standby"), text);
        assertTrue(text.contains("listening  127.0.0.1:" + port), text);
        assertTrue(text.contains("admin      " + started.group(3)), text);
        assertTrue(text.contains("drain timeout     5s"), text);
        assertFalse(text.contains("hunter2"), "a secret's value is never shown: " + text);
        assertTrue(describe.out().stream().anyMatch(l -> l.matches("  DB_PASSWORD +\\*\\*\\*\\*")), text);
        assertTrue(describe.out().stream().anyMatch(l -> l.matches("  REGION +eu-west-1")), text);
        assertTrue(text.contains(": slot 1, instance 0, ready") && text.contains(": slot 2, instance 1, ready"), text);
        Admin.Cli raw = cli("describe", "shop", "--json");
        assertEquals(0, raw.exitCode(), raw.err().toString());
        JsonNode app = new ObjectMapper().readTree(String.join("\n", raw.out()));
        assertEquals("shop", app.get("name").asText());
        assertEquals(pid, app.get("pid").asLong());
        assertEquals(2, app.get("workers").size(), app.toString());
        assertEquals(5000, app.get("settings").get("drainTimeoutMs").asLong());
        assertEquals("****", app.get("env").get("DB_PASSWORD").asText());
        assertFalse(String.join("\n", raw.out()).contains("hunter2"), raw.out().toString());
        Admin.Cli unknown = cli("describe", "nosuch");
        assertEquals(2, unknown.exitCode(), unknown.err().toString());
        assertEquals(1, unknown.err().size(), unknown.err().toString());
        assertTrue(unknown.err().getFirst().startsWith("forkless: no runtime runs the app 'nosuch'"), unknown.err().toString());

        // 3. a second start of the same app is refused (as pm2 start says it runs already): one line, exit 2,
        // nothing more running
        Admin.Cli again = cli("start", "--isolates", "1", shop.toString(), "--port", "0", "--host", "127.0.0.1");
        assertEquals(2, again.exitCode(), again.err().toString());
        assertEquals(1, again.err().size(), again.err().toString());
        assertTrue(again.err().getFirst().startsWith("forkless: shop runs already (pid " + pid + ", 127.0.0.1:" + port + ")"),
                again.err().toString());
        assertEquals(List.of(runtime), runtimes());

        // 4. stop APP stops it: no process, no registry file
        Admin.Cli stop = cli("stop", "shop");
        assertEquals(0, stop.exitCode(), stop.err().toString());
        await().atMost(Duration.ofSeconds(30)).until(() -> !runtime.isAlive() && !Files.exists(registryFile));
        assertEquals(List.of(), runtimes());
        assertTrue(Files.readString(log).contains("event=stopping"), Files.readString(log));
    }

    @Test
    void aStartThatFailsSaysWhyInOneLineExits2AndLeavesNothingRunning() throws Exception {
        Path notAJar = Files.writeString(dir.resolve("shop.jar"), "not a jar");
        Admin.Cli badJar = cli("start", notAJar.toString());
        assertEquals(2, badJar.exitCode(), badJar.err().toString());
        assertEquals(List.of("forkless: not a jar file: " + notAJar), badJar.err());
        assertEquals(List.of(), badJar.out());

        Admin.Cli badOption = cli("start", "--isolates", "x", RuntimeProcess.demoJar().toString());
        assertEquals(2, badOption.exitCode(), badOption.err().toString());
        assertEquals(List.of("forkless: --isolates takes a whole number or max, not 'x'"), badOption.err());

        Admin.Cli unknownOption = cli("start", "--no-such-option", RuntimeProcess.demoJar().toString());
        assertEquals(2, unknownOption.exitCode(), unknownOption.err().toString());
        assertEquals(1, unknownOption.err().size(), unknownOption.err().toString());
        assertTrue(unknownOption.err().getFirst().contains("--no-such-option"), unknownOption.err().toString());

        Admin.Cli noApp = cli("start");
        assertEquals(2, noApp.exitCode(), noApp.err().toString());
        assertEquals(1, noApp.err().size(), noApp.err().toString());

        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Admin.Cli portInUse = cli("start", "--isolates", "1", "--standby", "0", RuntimeProcess.demoJar().toString(),
                    "--port", String.valueOf(taken.getLocalPort()), "--host", "127.0.0.1");
            assertEquals(2, portInUse.exitCode(), portInUse.err().toString());
            assertEquals(1, portInUse.err().size(), portInUse.err().toString());
            assertTrue(portInUse.err().getFirst().startsWith("forkless: port " + taken.getLocalPort())
                    && portInUse.err().getFirst().contains("already in use"), portInUse.err().toString());
            assertEquals(List.of(), portInUse.out());
        }
        assertEquals(List.of(), runtimes());
        Path registry = home().resolve("runtimes");
        assertFalse(Files.exists(registry) && Files.list(registry).findAny().isPresent(), "nothing registered");
    }

    @Test
    void startTakesAConfigFileOfSeveralAppsAndStopEndsThemAll() throws Exception {
        String demo = RuntimeProcess.demoJar().toString();
        Path config = Files.writeString(dir.resolve("ecosystem.yaml"), "standby: 0\nisolates: 1\napps:\n"
                + "  - {name: web, app: " + demo + ", args: [--port, \"0\", --host, 127.0.0.1]}\n"
                + "  - {name: api, app: " + demo + ", args: [--port, \"0\", --host, 127.0.0.1], mode: process}\n");
        Admin.Cli start = cli("start", "--config", config.toString());
        assertEquals(0, start.exitCode(), start.err().toString());
        assertTrue(start.out().getFirst().startsWith("started web, api: pid "), start.out().toString());
        assertTrue(start.out().getFirst().endsWith("ecosystem.log"), start.out().toString());
        Admin.Cli ls = cli("ls");
        assertTrue(ls.out().stream().anyMatch(l -> l.matches("\\d+\\s+web\\s+isolate\\s+1\\s+.*")), ls.out().toString());
        assertTrue(ls.out().stream().anyMatch(l -> l.matches("\\d+\\s+api\\s+process\\s+1\\s+.*")), ls.out().toString());
        Admin.Cli stop = cli("stop", "all");
        assertEquals(0, stop.exitCode(), stop.err().toString());
        await().atMost(Duration.ofSeconds(30)).until(() -> runtimes().isEmpty());

        Path bad = Files.writeString(dir.resolve("bad.yaml"), "apps:\n  - {name: web, app: " + demo
                + ", isolates: many}\n");
        Admin.Cli refused = cli("start", "--config", bad.toString());
        assertEquals(2, refused.exitCode());
        assertEquals(List.of("forkless: " + bad + ":2: isolates: expected a number or \"max\""), refused.err());
        assertTrue(runtimes().isEmpty());
    }
}
