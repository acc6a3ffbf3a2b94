package dev.forkless.runtime;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three apps from one config file in one runtime (issue 18 item 1): under keep-alive load, one app
 * (process mode) is reloaded, another (isolates) is scaled and has a copy restarted by {@code APP:ID},
 * and the third's copies are crashed into its crash-loop guard; the two loaded apps never fail a
 * request, and {@code list} shows all three, the third errored. A bad {@code apps} list is one line and
 * exit 2.
 */
class SeveralAppsIT {

    private static final Pattern READY = Pattern.compile("forkless ready: (\\S+): \\d+ \\S+ serving \\[([^:]+):(\\d+)]");

    @TempDir
    Path dir;

    private Map<String, String> environment() {
        return Map.of("FORKLESS_HOME", dir.resolve("home").toString());
    }

    private Admin.Cli cli(String... args) throws Exception {
        return Admin.cliWithEnvironment(environment(), args);
    }

    private Path config(String text) throws Exception {
        return Files.writeString(dir.resolve("ecosystem.yaml"), text);
    }

    private static String app(String name, String jar, String extra) {
        return "  - name: " + name + "\n"
                + "    app: " + jar + "\n"
                + "    args: [\"--port\", \"0\", \"--host\", \"127.0.0.1\"]\n"
                + extra;
    }

    /** The address each app serves on, from the runtime's ready lines. */
    private static Map<String, InetSocketAddress> addresses(RuntimeProcess runtime, int apps) {
        await().atMost(Duration.ofSeconds(120)).until(() -> runtime.count(l -> l.startsWith("forkless ready: ")) == apps
                || !runtime.process().isAlive());
        Map<String, InetSocketAddress> addresses = new HashMap<>();
        for (String line : runtime.lines()) {
            Matcher m = READY.matcher(line);
            if (m.find()) {
                addresses.put(m.group(1), new InetSocketAddress(m.group(2), Integer.parseInt(m.group(3))));
            }
        }
        assertEquals(apps, addresses.size(), runtime.output());
        return addresses;
    }

    private static JsonNode workers(Admin admin, String app) throws Exception {
        var response = admin.get("/api/workers" + (app == null ? "" : "?app=" + app));
        assertEquals(200, response.statusCode(), response.body());
        return new ObjectMapper().readTree(response.body());
    }

    private static long inState(JsonNode workers, String state) {
        long n = 0;
        for (JsonNode w : workers) {
            if (w.path("state").asText().equals(state)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void reloadOneScaleAnotherCrashTheThirdIntoItsGuardTheLoadedAppsNeverFail() throws Exception {
        String demo = RuntimeProcess.demoJar().toString();
        Path logs = dir.resolve("logs");
        Path file = config("standby: 0\n"
                + "logs: " + logs + "\n"
                + "apps:\n"
                + app("web", demo, "    isolates: 2\n")
                + app("api", demo, "    isolates: 1\n    mode: process\n")
                + app("flaky", demo, "    isolates: 1\n    minUptime: 10m\n    maxRestarts: 1\n    restartDelay: 10ms\n"));
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(environment(), "--config", file.toString())) {
            Map<String, InetSocketAddress> at = addresses(runtime, 3);
            Admin admin = Admin.of(runtime);
            KeepAliveLoad web = KeepAliveLoad.start(at.get("web"), "/", 4, Duration.ofSeconds(120));
            KeepAliveLoad api = KeepAliveLoad.start(at.get("api"), "/", 4, Duration.ofSeconds(120));
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> web.ok() > 50 && api.ok() > 50);

                // the third app's copies crash until its crash-loop guard marks its slot errored
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
                    JsonNode flaky = workers(admin, "flaky");
                    if (inState(flaky, "errored") == 1) {
                        return true;
                    }
                    if (inState(flaky, "ready") == 1) {
                        try (Socket s = Http.fire(at.get("flaky"), "/crash")) {
                            s.setSoTimeout(2_000);
                            s.getInputStream().read(); // its answer, then it crashes
                        } catch (java.io.IOException e) {
                            // the copy went before it answered
                        }
                    }
                    return false;
                });
                assertTrue(runtime.hasLine(l -> l.startsWith("forkless app=flaky slot=1 event=errored")), runtime.output());

                Admin.Cli reload = cli("reload", "api");
                assertEquals(0, reload.exitCode(), reload.err() + "\n" + runtime.output());
                assertTrue(reload.out().getFirst().startsWith("reload: done, 1 copy started"), reload.out().toString());

                Admin.Cli scale = cli("scale", "web", "3");
                assertEquals(0, scale.exitCode(), scale.err() + "\n" + runtime.output());
                assertEquals(3, inState(workers(admin, "web"), "ready"));

                String webCopy = workers(admin, "web").get(0).path("id").asText();
                Admin.Cli restart = cli("restart", "web:" + webCopy);
                assertEquals(0, restart.exitCode(), restart.err() + "\n" + runtime.output());

                // the other apps still count their own copies only
                assertEquals(1, inState(workers(admin, "api"), "ready"));
                assertEquals(3, inState(workers(admin, "web"), "ready"));
                await().atMost(Duration.ofSeconds(60)).until(() -> web.ok() > 0 && api.ok() > 0);
            } finally {
                web.close();
                api.close();
            }
            assertEquals(0, web.failed(), "web: " + web.summary());
            assertEquals(0, api.failed(), "api: " + api.summary());
            assertTrue(web.ok() > 100 && api.ok() > 100, web.summary() + " / " + api.summary());

            // the apps' isolates are metered (one JFR stream for the runtime)
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                JsonNode ws = workers(admin, "web");
                boolean all = ws.size() == 3;
                for (JsonNode w : ws) {
                    all &= w.hasNonNull("cpuShare") && w.hasNonNull("classes");
                }
                return all;
            });

            // list: every app, with its column; the third errored
            Admin.Cli list = cli("list");
            assertEquals(0, list.exitCode(), list.err().toString());
            assertTrue(list.out().getFirst().startsWith("APP  "), list.out().toString());
            for (String app : List.of("web", "api", "flaky")) {
                assertTrue(list.out().stream().anyMatch(l -> l.startsWith(app + " ")), app + ": " + list.out());
            }
            assertTrue(list.out().stream().anyMatch(l -> l.startsWith("flaky ") && l.contains("errored")), list.out().toString());
            assertEquals(4, list.out().stream().filter(l -> l.startsWith("web ") || l.startsWith("api ")).count(),
                    list.out().toString());

            // the console tags each copy's lines with its app (process mode: the child's pipes too)
            assertTrue(runtime.hasLine(l -> l.startsWith("[web w")) && runtime.hasLine(l -> l.startsWith("[api w")),
                    runtime.output());

            // one logs folder: each app's files hold its own copies' lines only; logs APP reads its app's
            String apiListening = "demo listening on 127.0.0.1:" + at.get("api").getPort();
            try (var files = Files.list(logs)) {
                for (Path log : files.toList()) {
                    String name = log.getFileName().toString();
                    assertTrue(name.startsWith("web") || name.startsWith("api") || name.startsWith("flaky"), name);
                    if (name.matches("(web|flaky)-\\d+-out\\.log")) {
                        assertTrue(!Files.readString(log).contains(apiListening), name + " has an api line");
                    }
                }
            }
            Admin.Cli logsOfApi = cli("logs", "api", "-n", "200");
            assertEquals(0, logsOfApi.exitCode(), logsOfApi.err().toString());
            assertTrue(logsOfApi.out().stream().anyMatch(l -> l.contains(apiListening)), logsOfApi.out().toString());
            assertTrue(logsOfApi.out().stream().filter(l -> l.startsWith("==> "))
                    .allMatch(l -> l.contains("/api-")), logsOfApi.out().toString());

            // metrics: each copy's series and each slot's restarts say the app
            String metrics = admin.get("/metrics").body();
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("forkless_slot_restarts") && l.contains("app=\"flaky\"")),
                    metrics);
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("forkless_worker_requests") && l.contains("app=\"web\"")),
                    metrics);

            // ids are unique across the apps
            JsonNode all = workers(admin, null);
            java.util.Set<String> ids = new java.util.HashSet<>();
            for (JsonNode w : all) {
                String id = w.path("id").asText();
                assertTrue(id.equals("-") || ids.add(id), "id " + id + " twice: " + all);
            }

            // ls lists each app of the runtime; a name it does not run is one line, exit 2
            Admin.Cli ls = cli("ls", "--json");
            assertEquals(0, ls.exitCode(), ls.err().toString());
            JsonNode entries = new ObjectMapper().readTree(String.join("\n", ls.out()));
            assertEquals("[\"web\",\"api\",\"flaky\"]", entries.get(0).get("apps").toString());
            JsonNode details = entries.get(0).get("appDetails");
            assertEquals("web", details.get(0).get("name").asText(), entries.toString());
            assertEquals(3, details.get(0).get("copies").asInt(), "web was scaled to 3: " + entries);
            assertEquals("process", details.get(1).get("mode").asText(), entries.toString());
            assertEquals("127.0.0.1:" + at.get("api").getPort(), details.get(1).get("addresses").get(0).asText());
            Admin.Cli lsTable = cli("ls");
            assertTrue(lsTable.out().stream().anyMatch(l -> l.matches("\\d+\\s+api\\s+process\\s+1\\s+.*")),
                    lsTable.out().toString());
            Admin.Cli nosuch = cli("reload", "nosuch");
            assertEquals(2, nosuch.exitCode());
            assertEquals(1, nosuch.err().size(), nosuch.err().toString());
            Admin.Cli unnamed = cli("scale", "2");
            assertEquals(1, unnamed.exitCode());
            assertTrue(unnamed.err().getFirst().contains("several apps (web, api, flaky)"), unnamed.err().toString());

            // stop APP stops that app only; the runtime goes on with the others
            Admin.Cli stopApi = cli("stop", "api");
            assertEquals(0, stopApi.exitCode(), stopApi.err() + "\n" + runtime.output());
            assertEquals(List.of("stop api: done"), stopApi.out());
            assertEquals(0, workers(admin, "api").size());
            assertEquals(200, Http.get(at.get("web"), "/").status());
            assertTrue(runtime.process().isAlive(), runtime.output());

            Admin.Cli stop = cli("stop");
            assertEquals(0, stop.exitCode(), stop.err().toString());
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(60)), runtime.output());
        }
    }

    /**
     * Whether a client of {@code address} fails at once: its connection refused, or reset or closed before
     * any answer, within 2 s; false when it waits (in a backlog nobody accepts from) or is answered.
     */
    private static boolean failsAtOnce(InetSocketAddress address) {
        try (Socket s = new Socket()) {
            s.connect(address, 2_000);
            s.setSoTimeout(2_000);
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return s.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException hanging) {
            return false;
        } catch (java.io.IOException refusedOrReset) {
            return true;
        }
    }

    /** Crashes the app's one copy until its crash-loop guard marks its slot errored. */
    private static void crashIntoItsGuard(Admin admin, String app, InetSocketAddress at) {
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
            JsonNode copies = workers(admin, app);
            if (inState(copies, "errored") == 1) {
                return true;
            }
            if (inState(copies, "ready") == 1) {
                try (Socket s = Http.fire(at, "/crash")) {
                    s.setSoTimeout(2_000);
                    s.getInputStream().read(); // its answer, then it crashes
                } catch (java.io.IOException e) {
                    // the copy went before it answered
                }
            }
            return false;
        });
    }

    /**
     * An app no copy will accept for (every copy errored, or stop APP) has its port refuse clients at once,
     * instead of leaving them in a backlog nobody accepts from; start APP starts it again on the same port
     * (isolates, and child JVMs that held the socket too); start of an app that runs is one line, exit 1;
     * with --admin, an app that runtime does not run is one line naming its apps, exit 2.
     */
    @Test
    void anAppWithoutAcceptorRefusesClientsAndStartAppServesItAgainOnItsPort() throws Exception {
        String demo = RuntimeProcess.demoJar().toString();
        String text = "standby: 0\n"
                + "apps:\n"
                + app("web", demo, "    isolates: 1\n")
                + app("api", demo, "    isolates: 1\n    mode: process\n    drainTimeout: 60s\n")
                + app("flaky", demo, "    isolates: 1\n    minUptime: 10m\n    maxRestarts: 1\n    restartDelay: 10ms\n");
        Path file = config(text);
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(environment(), "--config", file.toString())) {
            Map<String, InetSocketAddress> at = addresses(runtime, 3);
            Admin admin = Admin.of(runtime);
            assertEquals(200, Http.get(at.get("flaky"), "/").status(), "flaky serves first");

            // every copy errored: the port refuses at once (it is closed on the errored slot's decision)
            crashIntoItsGuard(admin, "flaky", at.get("flaky"));
            assertTrue(failsAtOnce(at.get("flaky")), "a client of the errored app waits\n" + runtime.output());
            assertEquals(200, Http.get(at.get("web"), "/").status());

            // start APP: its copies again, with its settings, on the same port
            Admin.Cli start = cli("start", "flaky");
            assertEquals(0, start.exitCode(), start.err() + "\n" + runtime.output());
            assertEquals(List.of("start flaky: done, 1 copy started"), start.out());
            assertEquals(1, inState(workers(admin, "flaky"), "ready"));
            assertEquals(200, Http.get(at.get("flaky"), "/").status());

            // an app that runs: one line, exit 1 (refused), nothing changed
            Admin.Cli again = cli("start", "flaky");
            assertEquals(1, again.exitCode(), again.out().toString());
            assertEquals(List.of("forkless: the app 'flaky' runs already (reload replaces its copies)"), again.err());
            assertEquals(1, inState(workers(admin, "flaky"), "ready"));

            // stop APP of isolates: refused at once; an operation on the stopped app says so; start serves again
            Admin.Cli stopFlaky = cli("stop", "flaky");
            assertEquals(0, stopFlaky.exitCode(), stopFlaky.err() + "\n" + runtime.output());
            assertTrue(failsAtOnce(at.get("flaky")), "a client of the stopped app waits\n" + runtime.output());
            Admin.Cli reloadStopped = cli("reload", "flaky");
            assertEquals(1, reloadStopped.exitCode(), reloadStopped.out().toString());
            assertEquals(List.of("forkless: reload failed: the app is stopped (start APP starts it again)"),
                    reloadStopped.err());
            // its port taken by another program meanwhile: start fails in one line, exit 1, the app stays stopped
            try (java.net.ServerSocket squatter = new java.net.ServerSocket()) {
                squatter.setReuseAddress(true);
                squatter.bind(at.get("flaky"));
                Admin.Cli taken = cli("start", "flaky");
                assertEquals(1, taken.exitCode(), taken.out() + "\n" + runtime.output());
                assertEquals(1, taken.err().size(), taken.err().toString());
                assertTrue(taken.err().getFirst().startsWith("forkless: start flaky failed: ")
                        && taken.err().getFirst().contains("in use"), taken.err().toString());
            }
            assertTrue(failsAtOnce(at.get("flaky")), "a client of the app that could not start waits\n" + runtime.output());
            assertEquals(200, Http.get(at.get("web"), "/").status());
            config(text + "    env:\n      GREETING: again\n"); // flaky's entry is the last
            Admin.Cli updateEnv = cli("reload", "flaky", "--update-env");
            assertEquals(0, updateEnv.exitCode(), updateEnv.err() + "\n" + runtime.output());
            assertEquals(List.of("reload --update-env: done, 0 copies started, applied: env"), updateEnv.out());
            assertEquals(0, cli("start", "flaky").exitCode(), runtime.output());
            assertEquals("again", Http.get(at.get("flaky"), "/env/GREETING").body(), "started with its settings now");

            // stop APP of child JVMs, while its child still drains a client's open connection: the socket the
            // child holds too stops listening at once
            try (Socket held = Http.fire(at.get("api"), "/")) {
                held.setSoTimeout(5_000);
                assertTrue(held.getInputStream().read() > 0, "api answers"); // kept alive, idle
                assertEquals(202, admin.post("/api/stop?app=api").statusCode());
                await().atMost(Duration.ofSeconds(60)).until(() -> inState(workers(admin, "api"), "draining") == 1);
                assertTrue(failsAtOnce(at.get("api")), "a client of the stopped app waits\n" + runtime.output());
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> workers(admin, "api").isEmpty());
            Admin.Cli startApi = cli("start", "api", "--admin", admin.address());
            assertEquals(0, startApi.exitCode(), startApi.err() + "\n" + runtime.output());
            assertEquals(List.of("start api: done, 1 copy started"), startApi.out());
            assertEquals(200, Http.get(at.get("api"), "/").status());
            assertEquals("process", workers(admin, "api").get(0).path("mode").asText());

            // --admin naming an app that runtime does not run: one line with the apps it runs, exit 2
            for (String command : List.of("reload", "start", "list")) {
                Admin.Cli nosuch = cli(command, "nosuch", "--admin", admin.address());
                assertEquals(2, nosuch.exitCode(), command + ": " + nosuch.err());
                assertEquals(List.of("forkless: no app named \"nosuch\" in the runtime at " + admin.address()
                        + " (its apps: web, api, flaky)"), nosuch.err(), command);
            }
            assertEquals(200, Http.get(at.get("web"), "/").status());

            Admin.Cli stop = cli("stop");
            assertEquals(0, stop.exitCode(), stop.err().toString());
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(60)), runtime.output());
        }
    }

    @Test
    void twoAppsOfOneNameAreOneLineAndExit2() throws Exception {
        String demo = RuntimeProcess.demoJar().toString();
        Path file = config("apps:\n" + app("web", demo, "") + app("web", demo, ""));
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(environment(), "--config", file.toString())) {
            assertEquals(2, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
            assertEquals(List.of("forkless: " + file + ":5: apps: a second app named 'web' (the first is at line 2; "
                    + "give each its own name)"), runtime.lines());
        }
        Path noJar = config("apps:\n  - name: web\n    isolates: 2\n");
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(environment(), "--config", noJar.toString())) {
            assertEquals(2, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
            assertEquals(List.of("forkless: " + noJar + ":2: apps: this app has no app: (its jar)"), runtime.lines());
        }
    }

    @Test
    void reloadAppUpdateEnvTakesThatAppsEntryOnly() throws Exception {
        String demo = RuntimeProcess.demoJar().toString();
        String text = "standby: 0\nisolates: 1\nenv:\n  GREETING: top\napps:\n"
                + app("a", demo, "")
                + app("b", demo, "    env:\n      GREETING: old\n");
        Path file = config(text);
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(environment(), "--config", file.toString())) {
            Map<String, InetSocketAddress> at = addresses(runtime, 2);
            assertEquals("top", Http.get(at.get("a"), "/env/GREETING").body());
            assertEquals("old", Http.get(at.get("b"), "/env/GREETING").body());
            config(text.replace("GREETING: old", "GREETING: new").replace("GREETING: top", "GREETING: changed"));

            Admin.Cli unnamed = cli("reload", "--update-env");
            assertEquals(2, unnamed.exitCode(), unnamed.out().toString());
            assertTrue(unnamed.err().getFirst().contains("several apps (a, b)"), unnamed.err().toString());

            Admin.Cli reload = cli("reload", "b", "--update-env");
            assertEquals(0, reload.exitCode(), reload.err() + "\n" + runtime.output());
            assertEquals(List.of("reload --update-env: done, 1 copy started, applied: env"), reload.out());
            assertEquals("new", Http.get(at.get("b"), "/env/GREETING").body());
            assertEquals("top", Http.get(at.get("a"), "/env/GREETING").body(), "a was not reloaded");
        }
    }
}
