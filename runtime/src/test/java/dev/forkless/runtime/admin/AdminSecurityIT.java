package dev.forkless.runtime.admin;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin plane against an attacker: a web page using DNS rebinding (its own name in {@code Host}), a
 * token too short, bodies over the limits, and every error answered in JSON. One runtime for all, with
 * two copies, so a restart can queue behind a reload.
 */
class AdminSecurityIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> READS = List.of("/api/workers", "/api/runtime", "/api/app", "/api/shared", "/api/shared/k",
            "/metrics", "/health/live", "/health/ready");

    private static RuntimeProcess runtime;
    private static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "0", "--admin", "127.0.0.1:0",
                "--ready-timeout", "60s"); // a busy machine must not fail the reload
        runtime.awaitReady();
        admin = Admin.of(runtime);
    }

    @AfterAll
    static void stop() throws Exception {
        runtime.close();
    }

    /** A raw HTTP/1.1 exchange, so the test sets Host and the framing itself. */
    record Answer(int status, String contentType, String body) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    static Answer raw(int port, String request, byte[] body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                try {
                    out.write(body);
                } catch (IOException reset) {
                    // the server answered and closed before reading it all: read its answer
                }
            }
            out.flush();
            return read(socket.getInputStream());
        }
    }

    /** Reads one answer: status, headers, a body framed by Content-Length, chunks, or the connection's end. */
    static Answer read(InputStream in) throws IOException {
        return read(in, false);
    }

    /** Reads one answer; the answer to a HEAD has no body, whatever its headers say. */
    static Answer read(InputStream in, boolean head) throws IOException {
        String statusLine = line(in);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        String contentType = "";
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            String name = header.substring(0, header.indexOf(':')).trim().toLowerCase(Locale.ROOT);
            String value = header.substring(header.indexOf(':') + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.equalsIgnoreCase("chunked");
                case "content-type" -> contentType = value;
                default -> { }
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (head) {
            return new Answer(status, contentType, "");
        }
        if (chunked) {
            for (int size = Integer.parseInt(line(in).split(";")[0].trim(), 16); size > 0;
                 size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) {
                body.write(in.readNBytes(size));
                line(in);
            }
        } else if (length >= 0) {
            body.write(in.readNBytes((int) length));
        } else if (status != 204 && status != 304) {
            body.write(in.readAllBytes());
        }
        return new Answer(status, contentType, body.toString(StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("the connection ended in a line: " + line);
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    private static Answer get(String path, String host, String authorization) throws IOException {
        return raw(admin.port(), "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n"
                + (authorization == null ? "" : "Authorization: " + authorization + "\r\n") + "Connection: close\r\n\r\n", null);
    }

    private static void assertJsonError(Answer answer, int status, String what) throws IOException {
        assertJsonError(answer, status, status, what);
    }

    private static void assertJsonError(Answer answer, int status, int orStatus, String what) throws IOException {
        assertTrue(answer.status() == status || answer.status() == orStatus, what + ": " + answer.status() + " " + answer.body());
        assertTrue(answer.contentType().startsWith("application/json"), what + ": " + answer.contentType());
        assertTrue(answer.json().hasNonNull("error"), what + ": " + answer.body());
    }

    /** Row 4: DNS rebinding: a page under the attacker's name reads nothing, loopback names read everything. */
    @Test
    void readsNeedTheTokenUnlessTheHostIsALoopbackName() throws Exception {
        String token = "Bearer " + admin.token();
        for (String path : READS) {
            for (String host : List.of("attacker.example", "attacker.example:" + admin.port(), "127.0.0.1.attacker.example",
                    "localhost.attacker.example", "127.0.0.1:80:80", "[::1]x")) {
                // 400 when the server finds the Host header malformed itself
                assertJsonError(get(path, host, null), 401, 400, path + " as " + host);
                assertJsonError(get(path, host, "Bearer wrong-token-of-some-length"), 401, 400, path + " as " + host);
            }
            for (String host : List.of("127.0.0.1:" + admin.port(), "localhost:" + admin.port(), "localhost", "127.0.0.1",
                    "LOCALHOST:" + admin.port(), "[::1]:" + admin.port(), "127.1.2.3")) {
                int status = get(path, host, null).status();
                assertTrue(status == 200 || status == 404, path + " as " + host + ": " + status); // /api/shared/k: no such key
            }
            int status = get(path, "attacker.example", token).status();
            assertTrue(status == 200 || status == 404, path + " with the token: " + status);
        }
        // the dashboard's static files hold no data
        assertEquals(200, get("/", "attacker.example", null).status());
    }

    /** Row 4: --admin-open-probes opens the health checks and the metrics to scrapers, and nothing else. */
    @Test
    void openProbesOpenHealthAndMetricsOnly() throws Exception {
        try (RuntimeProcess open = RuntimeProcess.demo("--isolates", "1", "--standby", "0", "--admin", "127.0.0.1:0",
                "--admin-open-probes")) {
            open.awaitReady();
            Admin openAdmin = Admin.of(open);
            for (String path : List.of("/metrics", "/health/live", "/health/ready")) {
                Answer answer = raw(openAdmin.port(), "GET " + path + " HTTP/1.1\r\nHost: prometheus.internal:9615\r\n"
                        + "Connection: close\r\n\r\n", null);
                assertEquals(200, answer.status(), path + ": " + answer.body());
            }
            for (String path : List.of("/api/workers", "/api/runtime", "/api/app", "/api/shared")) {
                assertJsonError(raw(openAdmin.port(), "GET " + path + " HTTP/1.1\r\nHost: prometheus.internal:9615\r\n"
                        + "Connection: close\r\n\r\n", null), 401, path);
            }
        }
    }

    /** Row 8: the documented 1 MiB is the real limit, chunked or not, and every refusal is JSON. */
    @Test
    void sharedValuesUpToOneMebibyteAndJsonErrorsBeyond() throws Exception {
        String token = "Bearer " + admin.token();
        String value = "v".repeat(20 * 1024);
        String head = "PUT /api/shared/big HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + token + "\r\nConnection: close\r\n";
        assertEquals(204, raw(admin.port(), head + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(value.length())
                + "\r\n" + value + "\r\n0\r\n\r\n", null).status(), "20 KiB chunked");
        assertEquals(value, admin.get("/api/shared/big").body());
        byte[] mebibyte = "w".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
        assertEquals(204, raw(admin.port(), head + "Content-Length: " + mebibyte.length + "\r\n\r\n", mebibyte).status(), "1 MiB");
        assertEquals(1 << 20, admin.get("/api/shared/big").body().length());
        assertJsonError(raw(admin.port(), head + "Content-Length: " + (mebibyte.length + 1) + "\r\n\r\n", null), 413,
                "a declared length over 1 MiB");
        byte[] chunk = "x".repeat(600 * 1024).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream chunks = new ByteArrayOutputStream();
        for (int i = 0; i < 2; i++) {
            chunks.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            chunks.write(chunk);
            chunks.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        chunks.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertJsonError(raw(admin.port(), head + "Transfer-Encoding: chunked\r\n\r\n", chunks.toByteArray()), 413,
                "1.2 MiB chunked");
        String post = "POST /api/scale HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + token + "\r\nConnection: close\r\n";
        assertJsonError(raw(admin.port(), post + "Content-Length: 1048576\r\n\r\n", null), 413, "an operation's body over 16 KiB");
        assertJsonError(raw(admin.port(), post + "Content-Length: 104857600\r\n\r\n", null), 413, "a body over the server's limit");
        assertJsonError(get("/no/such/thing", "127.0.0.1", null), 404, "an unknown path");
        assertJsonError(raw(admin.port(), "GARBAGE\r\n\r\n", null), 400, "no HTTP at all");
        assertJsonError(get("/api/shared/missing", "127.0.0.1", null), 404, "no such key");
        assertJsonError(raw(admin.port(), "PATCH /api/shared/k HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", null),
                405, "a wrong method");
        assertEquals(204, admin.send("DELETE", "/api/shared/big", token, null).statusCode());
    }

    /** Row 11: a restart queued behind a reload that replaced its copy answers 404, as the docs say. */
    @Test
    void aRestartQueuedBehindAReloadThatReplacedItsCopyIs404() throws Exception {
        JsonNode workers = JSON.readTree(admin.get("/api/workers").body());
        String id = workers.get(0).get("id").asText();
        long reloadsBefore = runtime.count(l -> l.contains("event=reloading"));
        CompletableFuture<HttpResponse<String>> reload = CompletableFuture.supplyAsync(() -> {
            try {
                return admin.post("/api/reload");
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> runtime.count(l -> l.contains("event=reloading")) > reloadsBefore);
        HttpResponse<String> restart = admin.post("/api/workers/" + id + "/restart");
        assertEquals(200, reload.join().statusCode(), reload.join().body());
        assertEquals(404, restart.statusCode(), restart.body());
        assertTrue(JSON.readTree(restart.body()).get("error").asText().contains("copy"), restart.body());
    }
}
