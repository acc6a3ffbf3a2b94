package dev.forkless.runtime.admin;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes the admin API of a real runtime over raw sockets: random and mutated methods, paths, Host and
 * Authorization headers, body framings (lengths that lie, broken chunks) and bodies. Every answer comes
 * within 20 s, none is a 5xx, every error is JSON with an {@code error}; nothing changes without the token
 * and the runtime still serves afterwards. Seeded, so a failure repeats; about 30 s.
 */
class AdminFuzzIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> METHODS = List.of("GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH",
            "HEAD", "OPTIONS", "TRACE", "CONNECT", "G\u00e9T", "get", "GET GET", "");
    private static final List<String> PATHS = List.of("/api/workers", "/api/runtime", "/api/reload", "/api/scale",
            "/api/scale?n=3", "/api/scale?n=99999999999999999999", "/api/scale?n=-1", "/api/workers/1/restart",
            "/api/workers/%2e%2e/restart", "/api/stop", "/api/shared", "/api/shared/k", "/api/shared/%00",
            "/api/shared/" + "k".repeat(5000), "/metrics", "/health/live", "/health/ready", "/", "/dashboard.js",
            "/index.html", "/../../etc/passwd", "//api//workers", "/api/workers?x=%zz", "*", "http://evil/api/workers",
            "/api/shared/%E2%80%AE", "/api/workers/" + "9".repeat(100) + "/restart", "/api/metering?on=false",
            "/api/metering?on=maybe", "/api/metering");
    private static final List<String> HOSTS = List.of("127.0.0.1", "localhost", "attacker.example", "", "[::1]",
            "a".repeat(9000), "127.0.0.1\u0000evil", "localhost:0", "LOCALHOST.");

    @Test
    void randomRequestsGetJsonErrorsNeverA500NorAHang() throws Exception {
        long seed = 14;
        Random random = new Random(seed);
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "1", "--standby", "0", "--admin", "127.0.0.1:0")) {
            runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            String token = admin.token();
            String workersBefore = ids(admin);
            long end = System.nanoTime() + Duration.ofSeconds(25).toNanos();
            int requests = 0;
            while (System.nanoTime() < end && requests < 3000) {
                String method = pick(random, METHODS);
                String path = mutate(pick(random, PATHS), random);
                // the token only where it changes nothing that matters: the shared state
                boolean tokenAllowed = method.equals("GET")
                        || (method.equals("PUT") || method.equals("DELETE")) && path.startsWith("/api/shared");
                String authorization = switch (random.nextInt(4)) {
                    case 0 -> null;
                    case 1 -> "Bearer wrong-but-long-enough-token";
                    case 2 -> tokenAllowed ? "Bearer " + token : "Basic " + token;
                    default -> "Bearer " + token.substring(0, random.nextInt(token.length()));
                };
                StringBuilder request = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
                if (random.nextInt(10) > 0) {
                    request.append("Host: ").append(pick(random, HOSTS)).append("\r\n");
                }
                if (authorization != null) {
                    request.append("Authorization: ").append(authorization).append("\r\n");
                }
                byte[] body = new byte[random.nextInt(4) == 0 ? random.nextInt(40_000) : random.nextInt(64)];
                random.nextBytes(body);
                if (random.nextBoolean()) {
                    body = "{\"n\": 2, \"x\": [1, {\"y\": null}]}".getBytes(StandardCharsets.UTF_8);
                }
                switch (random.nextInt(5)) {
                    case 0 -> request.append("Content-Length: ").append(body.length).append("\r\n");
                    case 1 -> request.append("Content-Length: ").append(random.nextInt(3) == 0 ? "-1"
                            : random.nextBoolean() ? "99999999999999999999" : "abc").append("\r\n");
                    case 2 -> request.append("Transfer-Encoding: chunked\r\n");
                    case 3 -> request.append("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n");
                    default -> body = new byte[0];
                }
                request.append("Connection: close\r\n\r\n");
                byte[] framed = request.toString().contains("chunked") ? chunked(body, random) : body;
                check(admin.port(), method, path, request.toString(), framed, seed, requests);
                requests++;
            }
            assertTrue(requests >= 200, "only " + requests + " requests");
            assertTrue(runtime.process().isAlive(), runtime.output());
            assertEquals(200, admin.get("/health/live").statusCode());
            assertEquals(workersBefore, ids(admin), "nothing changed without the token");
            assertTrue(runtime.lines().stream().noneMatch(l -> l.contains("Exception") || l.startsWith("\tat ")),
                    runtime.output());
        }
    }

    private static void check(int port, String method, String path, String head, byte[] body, long seed, int n)
            throws IOException {
        String what = "request " + n + " (seed " + seed + "): " + head.lines().findFirst().orElse("")
                .substring(0, Math.min(120, head.lines().findFirst().orElse("").length()));
        AdminSecurityIT.Answer answer;
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(head.getBytes(StandardCharsets.UTF_8));
                out.write(body);
                out.flush();
                socket.shutdownOutput(); // a body shorter than promised ends here, not in a wait
            } catch (SocketException reset) {
                // the server answered and closed before it read everything: its answer is there to read
            }
            try {
                answer = AdminSecurityIT.read(socket.getInputStream(), method.equals("HEAD"));
            } catch (java.net.SocketTimeoutException e) {
                fail("no answer within 20 s to " + what);
                return;
            } catch (IOException closedWithoutAnswer) {
                return; // the server may close a connection whose request it cannot parse at all
            }
        }
        assertTrue(answer.status() < 500, what + " -> " + answer.status() + " " + answer.body());
        if (answer.status() >= 400 && !method.equals("HEAD")) {
            JsonNode json;
            try {
                json = JSON.readTree(answer.body());
            } catch (IOException e) {
                fail(what + " -> " + answer.status() + " with a body that is not JSON: " + answer.body());
                return;
            }
            assertTrue(json != null && json.hasNonNull("error"), what + " -> " + answer.status() + " " + answer.body());
        }
    }

    private static byte[] chunked(byte[] body, Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        while (at < body.length) {
            int size = Math.min(body.length - at, 1 + random.nextInt(8192));
            String header = random.nextInt(20) == 0 ? "zz" : Integer.toHexString(size);
            out.writeBytes((header + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, at, size);
            out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            at += size;
        }
        if (random.nextInt(4) > 0) {
            out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    private static String mutate(String path, Random random) {
        StringBuilder s = new StringBuilder(path);
        if (random.nextInt(3) == 0) {
            int at = random.nextInt(s.length() + 1);
            String[] inserts = {"%", "%2F", "%00", "/", "..", "?", "#", "&n=", ";", "%ff", "{id}", "\u00e9", "~", "%20"};
            s.insert(at, inserts[random.nextInt(inserts.length)]);
        }
        return s.toString();
    }

    private static <T> T pick(Random random, List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

    private static String ids(Admin admin) throws Exception {
        JsonNode workers = JSON.readTree(admin.get("/api/workers").body());
        StringBuilder ids = new StringBuilder();
        workers.forEach(w -> ids.append(w.get("id").asText()).append(' '));
        return ids.toString();
    }
}
