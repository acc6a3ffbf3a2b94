package dev.forkless.runtime.admin;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API over real HTTP, against one runtime serving the demo with 2 isolates: every endpoint,
 * with no token, a wrong token and the right one, and malformed requests (never a 5xx). Also the CLI's
 * client commands against the same runtime. The last test stops it through the API.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminApiIT {

    private final ObjectMapper json = new ObjectMapper();
    private RuntimeProcess runtime;
    private Admin admin;
    private java.net.InetSocketAddress app;

    @BeforeAll
    void start() throws Exception {
        runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "0", "--admin", "127.0.0.1:0");
        app = runtime.awaitReady();
        admin = Admin.of(runtime);
    }

    @AfterAll
    void stop() throws Exception {
        runtime.close();
    }

    private JsonNode workers() throws Exception {
        HttpResponse<String> response = admin.get("/api/workers");
        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("application/json"));
        return json.readTree(response.body());
    }

    private List<String> ids() throws Exception {
        List<String> ids = new ArrayList<>();
        workers().forEach(w -> ids.add(w.get("id").asText()));
        return ids;
    }

    @Test
    @Order(1)
    void workersDescribesEveryCopy() throws Exception {
        JsonNode workers = workers();
        assertEquals(2, workers.size(), workers.toString());
        for (JsonNode w : workers) {
            for (String field : List.of("id", "mode", "pid", "state", "uptimeMs", "restarts", "requests",
                    "activeConnections", "cpuMs", "memoryBytes", "lastExit")) {
                assertTrue(w.has(field), field + " in " + w);
            }
            assertEquals("isolate", w.get("mode").asText());
            assertEquals(runtime.pid(), w.get("pid").asLong());
            assertEquals("ready", w.get("state").asText());
            assertTrue(w.get("cpuMs").isNull() && w.get("memoryBytes").isNull(),
                    "an isolate's CPU and memory are not measurable on their own: " + w);
        }
        JsonNode info = json.readTree(admin.get("/api/runtime").body());
        assertEquals(runtime.pid(), info.get("pid").asLong());
        assertTrue(info.get("residentMemoryBytes").asLong() > 0, info.toString());
        JsonNode app = json.readTree(admin.get("/api/app").body());
        assertEquals("demo", app.get("name").asText(), app.toString());
        assertEquals(runtime.pid(), app.get("pid").asLong());
        assertEquals(workers.size(), app.get("workers").size(), app.toString());
        for (JsonNode w : app.get("workers")) {
            String slot = w.get("slot").asText();
            if (slot.matches("\\d+")) {
                assertEquals(Integer.parseInt(slot) - 1, w.get("instance").asInt(), w.toString());
            } else {
                assertTrue(w.get("instance").isNull(), "a standby has no instance number yet: " + w);
            }
        }
    }

    @Test
    @Order(2)
    void healthChecks() throws Exception {
        HttpResponse<String> live = admin.get("/health/live");
        assertEquals(200, live.statusCode());
        HttpResponse<String> ready = admin.get("/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals(2, json.readTree(ready.body()).get("readyCopies").asInt());
    }

    @Test
    @Order(2)
    void theTailOfEachCopysOutput() throws Exception {
        for (String id : ids()) {
            JsonNode lines = log(id, "");
            assertTrue(lines.isArray() && lines.size() <= 50, lines.toString());
            assertTrue(text(lines).contains("demo listening on"), "what copy " + id + " printed at start: " + lines);
        }
        // a copy prints 3 lines on each stream now: the tail shows them, the last ones last
        String printed = dev.forkless.runtime.testing.Http.get(app, "/log?lines=3&threads=0").body();
        String id = printed.replaceAll(".* by ", "").trim();
        await().atMost(Duration.ofSeconds(10)).until(() -> text(log(id, "?lines=200")).contains("seq=2 stream=err"));
        JsonNode all = log(id, "?lines=200");
        int err = -1;
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).get("text").asText().matches("log worker=" + id + " thread=\\S+ seq=2 stream=err x+")) {
                err = i;
            }
        }
        assertTrue(err > 0, all.toString());
        assertEquals("err", all.get(err).get("stream").asText(), all.toString());
        assertTrue(all.get(err).get("timeMs").asLong() > System.currentTimeMillis() - 60_000, all.toString());
        assertEquals("out", all.get(err - 1).get("stream").asText(), all.toString());
        assertTrue(all.get(err - 1).get("text").asText().contains(" seq=2 stream=out"), all.toString());
        JsonNode last = log(id, "?lines=2");
        assertEquals(2, last.size(), last.toString());
        assertEquals(all.get(all.size() - 1), last.get(1), "the last lines, oldest first");
        assertEquals(all.get(all.size() - 2), last.get(0));
        for (String bad : List.of("?lines=0", "?lines=201", "?lines=abc", "?lines=-1", "?lines=")) {
            HttpResponse<String> response = admin.get("/api/workers/" + id + "/log" + bad);
            assertEquals(400, response.statusCode(), bad + ": " + response.body());
        }
        assertEquals(404, admin.get("/api/workers/999/log").statusCode());
        assertEquals(404, admin.get("/api/workers/-/log").statusCode());
        assertEquals(405, admin.post("/api/workers/" + id + "/log").statusCode());
    }

    private JsonNode log(String id, String query) throws Exception {
        HttpResponse<String> response = admin.get("/api/workers/" + id + "/log" + query);
        assertEquals(200, response.statusCode(), response.body());
        return json.readTree(response.body());
    }

    private static String text(JsonNode lines) {
        StringBuilder all = new StringBuilder();
        lines.forEach(l -> all.append(l.get("text").asText()).append(" stream=").append(l.get("stream").asText()).append('\n'));
        return all.toString();
    }

    @Test
    @Order(3)
    void theTokenFileIsTheOwnersOnly() throws Exception {
        assertEquals(AdminServer.defaultTokenFile(admin.port()), admin.tokenFile());
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(admin.tokenFile()));
        assertTrue(admin.token().length() >= 32);
        assertTrue(runtime.hasLine(l -> l.contains("token-file=" + admin.tokenFile())), "its path is printed");
    }

    @Test
    @Order(4)
    void everyMutationNeedsTheTokenAndChangesNothingWithoutIt() throws Exception {
        List<String> before = ids();
        String id = before.getFirst();
        for (String path : List.of("/api/reload", "/api/scale?n=3", "/api/workers/" + id + "/restart", "/api/stop",
                "/api/start", "/api/upgrade")) {
            for (String authorization : new String[] {null, "Bearer wrong", "Bearer " + admin.token() + "x",
                    "Basic " + admin.token(), "Bearer", admin.token()}) {
                HttpResponse<String> response = admin.post(path, authorization, null);
                assertEquals(401, response.statusCode(), path + " with " + authorization + ": " + response.body());
                assertTrue(response.headers().firstValue("www-authenticate").isPresent());
            }
        }
        // with the token: the app of a runtime of one app runs while the runtime does
        HttpResponse<String> start = admin.post("/api/start");
        assertEquals(409, start.statusCode(), start.body());
        assertTrue(start.body().contains("runs already") && start.body().contains("\"running\":true"), start.body());
        assertEquals(before, ids(), "nothing changed");
        assertTrue(runtime.process().isAlive());
        assertFalse(runtime.hasLine(l -> l.contains("event=reloading") || l.contains("event=scaled")
                || l.contains("event=stopping") || l.contains("event=upgrading")), runtime.output());
    }

    @Test
    @Order(5)
    void malformedRequestsGet4xxNever5xx() throws Exception {
        List<String> before = ids();
        String token = "Bearer " + admin.token();
        record Case(String path, HttpRequest.BodyPublisher body, int status) {
        }
        List<Case> cases = List.of(
                new Case("/api/scale?n=abc", null, 400),
                new Case("/api/scale?n=0", null, 400),
                new Case("/api/scale?n=-1", null, 400),
                new Case("/api/scale?n=1.5", null, 400),
                new Case("/api/scale?n=99999999999", null, 400),
                new Case("/api/scale?n=100000", null, 400),
                new Case("/api/scale?n=", null, 400),
                new Case("/api/scale", null, 400),
                new Case("/api/scale", HttpRequest.BodyPublishers.ofString("{\"n\": "), 400),
                new Case("/api/scale", HttpRequest.BodyPublishers.ofString("[3]"), 400),
                new Case("/api/scale", HttpRequest.BodyPublishers.ofString("{\"n\": \"many\"}"), 400),
                new Case("/api/scale", HttpRequest.BodyPublishers.ofString("{\"n\": 2.5}"), 400),
                new Case("/api/reload", HttpRequest.BodyPublishers.ofString("not json"), 400),
                new Case("/api/workers/999/restart", null, 404),
                new Case("/api/workers/-/restart", null, 404),
                new Case("/api/workers/%2e%2e/restart", null, 404));
        for (Case c : cases) {
            HttpResponse<String> response = admin.post(c.path(), token, c.body());
            assertEquals(c.status(), response.statusCode(), c.path() + ": " + response.body());
        }
        assertEquals(405, admin.get("/api/reload").statusCode());
        assertEquals(405, admin.post("/api/workers", token, null).statusCode());
        assertEquals(404, admin.get("/api/nothing").statusCode());
        assertEquals(400, raw("GARBAGE\r\n\r\n") / 100 * 100);
        // huge bodies, on raw connections: the server answers before it read them all, which an HTTP client
        // may see as a reset while it is still sending
        String head = "POST /api/scale HTTP/1.1\r\nHost: x\r\nAuthorization: " + token + "\r\n";
        assertEquals(413, raw(head + "Content-Length: 1048576\r\n\r\n"), "a declared huge body");
        String chunk = "x".repeat(20_000);
        assertEquals(413, raw(head + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(chunk.length())
                + "\r\n" + chunk + "\r\n"), "a huge chunked body");
        assertEquals(before, ids(), "nothing changed");
    }

    /** Sends bytes on a raw connection; returns the response's status. */
    private int raw(String request) throws Exception {
        try (Socket socket = new Socket(admin.url().getHost(), admin.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            return Integer.parseInt(status.substring(9, 12));
        }
    }

    @Test
    @Order(6)
    void restartReplacesOneCopy() throws Exception {
        List<String> before = ids();
        String id = before.getFirst();
        int restarts = restartsOfSlot1();
        HttpResponse<String> response = admin.post("/api/workers/" + id + "/restart");
        assertEquals(200, response.statusCode(), response.body());
        JsonNode result = json.readTree(response.body());
        assertTrue(result.get("ok").asBoolean());
        assertEquals(1, result.get("replaced").asInt());
        await().atMost(Duration.ofSeconds(60)).until(() -> !ids().contains(id) && ids().size() == 2);
        assertTrue(ids().contains(before.get(1)), "the other copy still serves");
        assertTrue(text(log(id, "")).contains("demo listening on"), "the tail of a copy that went is kept a while");
        assertEquals(restarts + 1, restartsOfSlot1(), "a restart counts");
    }

    private int restartsOfSlot1() throws Exception {
        return Stream.of(json.treeToValue(workers(), JsonNode[].class))
                .filter(w -> w.get("slot").asText().equals("1")).findFirst().orElseThrow().get("restarts").asInt();
    }

    @Test
    @Order(7)
    void scaleUpAndDown() throws Exception {
        HttpResponse<String> up = admin.post("/api/scale", "Bearer " + admin.token(),
                HttpRequest.BodyPublishers.ofString("{\"n\": 3}"));
        assertEquals(200, up.statusCode(), up.body());
        assertEquals(3, ids().size());
        HttpResponse<String> down = admin.post("/api/scale?n=2");
        assertEquals(200, down.statusCode(), down.body());
        await().atMost(Duration.ofSeconds(60)).until(() -> ids().size() == 2);
    }

    @Test
    @Order(8)
    void reload() throws Exception {
        Set<String> before = Set.copyOf(ids());
        HttpResponse<String> response = admin.post("/api/reload");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(2, json.readTree(response.body()).get("replaced").asInt());
        await().atMost(Duration.ofSeconds(60)).until(() -> ids().size() == 2 && ids().stream().noneMatch(before::contains));
    }

    @Test
    @Order(9)
    void metricsInPrometheusText() throws Exception {
        HttpResponse<String> response = admin.get("/metrics");
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
        String text = response.body();
        String id = ids().getFirst();
        for (String expected : List.of(
                "forkless_worker_requests_total{id=\"" + id + "\",mode=\"isolate\",slot=",
                "forkless_worker_active_connections{id=\"" + id + "\"",
                "forkless_worker_state{id=\"" + id + "\",mode=\"isolate\",slot=",
                "forkless_workers{state=\"ready\"} 2.0",
                "forkless_slot_restarts_total{slot=\"1\"}",
                "forkless_drain_duration_seconds_count",
                "forkless_events_total{event=\"drained\"}",
                "forkless_reloads_total{result=\"ok\"} 1.0",
                "jvm_memory_used_bytes",
                "jvm_threads_live_threads")) {
            assertTrue(text.contains(expected), expected + " in:\n" + text);
        }
        long drains = text.lines().filter(l -> l.startsWith("forkless_drain_duration_seconds_count"))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        assertTrue(drains >= 4, "restart, scale down and reload drained copies: " + drains);
        List<String> now = ids();
        List<String> gone = text.lines().filter(l -> l.startsWith("forkless_worker_requests_total{"))
                .filter(l -> now.stream().noneMatch(i -> l.contains("id=\"" + i + "\""))).toList();
        assertEquals(List.of(), gone, "series of copies that are gone are removed");
    }

    @Test
    @Order(9)
    void sharedStateThroughTheApiReachesEveryCopy() throws Exception {
        assertEquals(401, admin.send("PUT", "/api/shared/greeting", null, "hi").statusCode(), "no token");
        assertEquals(401, admin.send("PUT", "/api/shared/greeting", "Bearer wrong", "hi").statusCode(), "wrong token");
        assertEquals(404, admin.get("/api/shared/greeting").statusCode(), "a refused write changed nothing");
        assertEquals(204, admin.send("PUT", "/api/shared/greeting", "Bearer " + admin.token(), "hello copies").statusCode());
        assertEquals("hello copies", admin.get("/api/shared/greeting").body());
        assertEquals("{\"greeting\":\"hello copies\"}", admin.get("/api/shared").body());
        // pushed to both copies: every copy answers the new value
        java.net.InetSocketAddress app = runtime.awaitReady();
        await().atMost(java.time.Duration.ofSeconds(5)).until(() -> {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (int i = 0; i < 20; i++) {
                seen.add(dev.forkless.runtime.testing.Http.get(app, "/shared/greeting").body());
            }
            return seen.equals(java.util.Set.of("hello copies"));
        });
        assertEquals(204, admin.send("DELETE", "/api/shared/greeting", "Bearer " + admin.token(), null).statusCode());
        assertEquals(404, admin.get("/api/shared/greeting").statusCode());
    }

    @Test
    @Order(10)
    void cliListPrintsAnAlignedTable() throws Exception {
        Admin.Cli list = Admin.cli("list", "--admin", admin.address());
        assertEquals(0, list.exitCode(), String.join("\n", list.err()));
        assertEquals(3, list.out().size(), String.join("\n", list.out()));
        String header = list.out().getFirst();
        assertTrue(header.startsWith("ID  SLOT  INST  MODE") && header.contains("RESTARTS"), header);
        int state = header.indexOf("STATE");
        for (String row : list.out().subList(1, 3)) {
            assertEquals("ready", row.substring(state, state + 5), "aligned: " + row);
            assertTrue(row.contains("isolate"), row);
        }
    }

    @Test
    @Order(11)
    void cliExitCodes() throws Exception {
        assertEquals(2, Admin.cli("scale", "many", "--admin", admin.address()).exitCode());
        assertEquals(2, Admin.cli("list", "--admin", "nowhere:port").exitCode());
        Admin.Cli unknown = Admin.cli("restart", "999", "--admin", admin.address());
        assertEquals(1, unknown.exitCode(), unknown.err().toString());
        assertTrue(unknown.err().getFirst().contains("no copy with id"), unknown.err().toString());
        java.nio.file.Path wrong = Files.createTempFile("wrong", ".token");
        Files.writeString(wrong, "not-the-token");
        Admin.Cli refused = Admin.cli("reload", "--admin", admin.address(), "--token-file", wrong.toString());
        Files.delete(wrong);
        assertEquals(1, refused.exitCode(), refused.err().toString());
        Admin.Cli monit = Admin.cli("monit", "--admin", admin.address(), "--iterations", "2", "--interval", "200");
        assertEquals(0, monit.exitCode(), monit.err().toString());
        assertTrue(monit.out().stream().filter(l -> l.contains("ID  SLOT")).count() >= 2, monit.out().toString());
        Admin.Cli restart = Admin.cli("restart", ids().getFirst(), "--admin", admin.address());
        assertEquals(0, restart.exitCode(), restart.err().toString());
    }

    @Test
    @Order(12)
    void stopThroughTheApi() throws Exception {
        HttpResponse<String> response = admin.post("/api/stop");
        assertEquals(202, response.statusCode(), response.body());
        assertEquals(0, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
        assertTrue(runtime.hasLine(l -> l.contains("event=stopping reason=\"admin API\"")), runtime.output());
        assertFalse(Files.exists(admin.tokenFile()), "the token file is deleted at stop");
        assertNotEquals(0, Admin.cli("list", "--admin", admin.address()).exitCode());
    }
}
