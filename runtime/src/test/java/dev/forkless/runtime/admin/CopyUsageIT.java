package dev.forkless.runtime.admin;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What each isolate costs, as {@code /api/workers}, {@code /metrics} and {@code list} show it: two copies of the
 * demo, one made busy or leaking through a keep-alive connection that it serves, the other idle.
 */
class CopyUsageIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A keep-alive connection to the copy that serves it, and that copy's id. */
    private record Pinned(Http http, String copy) {
        static Pinned open(InetSocketAddress address) throws Exception {
            Http http = new Http(address);
            String body = http.send("/whoami", false).body();
            return new Pinned(http, JSON.readTree(body).get("isolate").asText());
        }
    }

    /** Repeats {@code path} on the pinned connection on a thread until stopped; counts failures. */
    private static Thread repeat(Pinned pinned, String path, AtomicBoolean stop, AtomicLong failures, long pauseMs) {
        return Thread.ofPlatform().daemon(true).start(() -> {
            while (!stop.get()) {
                try {
                    if (pinned.http().send(path, false).status() != 200) {
                        failures.incrementAndGet();
                    }
                    if (pauseMs > 0) {
                        Thread.sleep(pauseMs); // the traffic's pace, not a wait for the runtime
                    }
                } catch (Exception e) {
                    failures.incrementAndGet();
                    return;
                }
            }
        });
    }

    private static JsonNode worker(Admin admin, String id) throws Exception {
        for (JsonNode w : JSON.readTree(admin.get("/api/workers").body())) {
            if (w.get("id").asText().equals(id)) {
                return w;
            }
        }
        throw new AssertionError("no copy " + id);
    }

    private static String other(Admin admin, String id) throws Exception {
        for (JsonNode w : JSON.readTree(admin.get("/api/workers").body())) {
            if (!w.get("id").asText().equals(id)) {
                return w.get("id").asText();
            }
        }
        throw new AssertionError("no other copy than " + id);
    }

    @Test
    void aBusyCopyShowsAboveAnIdleOneAndALeakingOneStandsOut() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "0", "--admin", "127.0.0.1:0")) {
            InetSocketAddress address = runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            Pinned busy = Pinned.open(address);
            String idle = other(admin, busy.copy());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong failures = new AtomicLong();
            Thread burner = repeat(busy, "/work?ms=200", stop, failures, 0);
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    JsonNode b = worker(admin, busy.copy());
                    JsonNode i = worker(admin, idle);
                    assertTrue(b.hasNonNull("cpuShare"), b.toString());
                    assertTrue(b.get("cpuShare").asDouble() > 0.5, "busy " + b + " idle " + i);
                    assertTrue(b.get("cpuShare").asDouble() > 5 * i.get("cpuShare").asDouble(), "busy " + b + " idle " + i);
                    assertTrue(b.get("classes").asLong() > 100, b.toString());
                    assertTrue(b.get("metaspaceBytes").asLong() > 0, b.toString());
                });
                String metrics = admin.get("/metrics").body();
                assertTrue(metrics.contains("forkless_worker_cpu_share{id=\"" + busy.copy() + "\""), metrics);
            } finally {
                stop.set(true);
                burner.join();
                busy.http().close();
            }
            assertEquals(0, failures.get());

            // the other way round: the idle copy leaks, the busy one is quiet now
            Pinned leaking = Pinned.open(address);
            String quiet = other(admin, leaking.copy());
            stop.set(false);
            Thread leaker = repeat(leaking, "/leak?mb=2", stop, failures, 200);
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    JsonNode l = worker(admin, leaking.copy());
                    JsonNode q = worker(admin, quiet);
                    assertTrue(l.get("allocatedBytesPerSecond").asDouble() > 2_000_000, "leaking " + l + " quiet " + q);
                    assertTrue(l.get("allocatedBytesPerSecond").asDouble() > 10 * q.get("allocatedBytesPerSecond").asDouble(),
                            "leaking " + l + " quiet " + q);
                    // and what it keeps: most of the JVM's sampled live objects are the leaking copy's
                    assertTrue(l.get("keptHeapShare").asDouble() > 0.5, "leaking " + l + " quiet " + q);
                    assertTrue(l.get("keptHeapShare").asDouble() > 5 * q.get("keptHeapShare").asDouble(),
                            "leaking " + l + " quiet " + q);
                    assertTrue(l.get("keptHeapBytes").asLong() > 20L << 20, "leaking " + l + " quiet " + q);
                });
                String metrics = admin.get("/metrics").body();
                assertTrue(metrics.contains("forkless_worker_kept_heap_bytes{id=\"" + leaking.copy() + "\""), metrics);
            } finally {
                stop.set(true);
                leaker.join();
                leaking.http().close();
            }
            assertEquals(0, failures.get());
        }
    }

    /** The JFR recordings of a JVM, as {@code jcmd PID JFR.check} lists them (one line per recording). */
    private static List<String> recordings(long pid) throws Exception {
        Path jcmd = RuntimeProcess.artifact("forkless.java").resolveSibling("jcmd");
        Path out = java.nio.file.Files.createTempFile("forkless-jcmd", ".out");
        try {
            // a busy machine's attach can take longer than jcmd's default 10 s
            Process p = new ProcessBuilder(jcmd.toString(), "-J-Dsun.tools.attach.attachTimeout=60000", String.valueOf(pid),
                    "JFR.check").redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("jcmd JFR.check did not end in 120 s: " + java.nio.file.Files.readString(out));
            }
            String text = java.nio.file.Files.readString(out);
            assertEquals(0, p.exitValue(), text);
            assertTrue(text.contains("Recording ") || text.contains("No available recordings"), text);
            return text.lines().filter(l -> l.startsWith("Recording ")).toList();
        } finally {
            java.nio.file.Files.deleteIfExists(out);
        }
    }

    /** Whether the copy uses CPU by the meter's figures, while it is made to: a request of 100 ms of work. */
    private static boolean busyByTheMeter(Admin admin, Http http, String copy) throws Exception {
        assertEquals(200, http.send("/work?ms=100", false).status());
        JsonNode w = worker(admin, copy);
        return w.hasNonNull("cpuShare") && w.get("cpuShare").asDouble() > 0;
    }

    @Test
    void meteringTurnedOffLeavesNoRecordingAndNoFiguresAndComesBackOn() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "1", "--standby", "0", "--admin", "127.0.0.1:0");
             Http http = new Http(runtime.awaitReady())) {
            Admin admin = Admin.of(runtime);
            String copy = JSON.readTree(admin.get("/api/workers").body()).get(0).get("id").asText();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> busyByTheMeter(admin, http, copy));
            assertTrue(JSON.readTree(admin.get("/api/runtime").body()).get("metering").asBoolean());
            assertFalse(recordings(runtime.pid()).isEmpty(), "metering on: JFR records");

            assertEquals(401, admin.post("/api/metering?on=false", null, null).statusCode()); // an operation: the token
            assertEquals(400, admin.post("/api/metering?on=maybe").statusCode());
            Admin.Cli off = Admin.cli("metering", "off", "--admin", admin.address(), "--token-file", admin.tokenFile().toString());
            assertEquals(0, off.exitCode(), off.err().toString());
            assertEquals(List.of("metering off: done"), off.out());
            HttpResponse<String> again = admin.post("/api/metering?on=false"); // what the CLI's "done" stood for
            assertEquals(200, again.statusCode(), again.body());
            assertEquals("{\"metering\":false}", again.body());
            // off: it answers once the stream is closed, nothing of JFR is left, no copy has figures
            assertEquals(List.of(), recordings(runtime.pid()));
            JsonNode w = worker(admin, copy);
            assertFalse(w.hasNonNull("cpuShare"), w.toString());
            assertFalse(JSON.readTree(admin.get("/api/runtime").body()).get("metering").asBoolean());
            assertFalse(admin.get("/metrics").body().contains("forkless_worker_cpu_share{"), "no figures while off");
            assertEquals(200, http.send("/", false).status(), "the copy serves on");

            HttpResponse<String> on = admin.post("/api/metering?on=true");
            assertEquals(200, on.statusCode(), on.body());
            assertTrue(JSON.readTree(on.body()).get("metering").asBoolean(), on.body());
            assertFalse(recordings(runtime.pid()).isEmpty(), "on again: JFR records");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> busyByTheMeter(admin, http, copy));
        }
    }

    @Test
    void aRuntimeWithoutMeteringSaysSoWhenAskedToMeter() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "1", "--standby", "0", "--no-metering",
                "--admin", "127.0.0.1:0")) {
            runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            assertTrue(JSON.readTree(admin.get("/api/runtime").body()).get("metering").isNull());
            Admin.Cli cli = Admin.cli("metering", "on", "--admin", admin.address(), "--token-file", admin.tokenFile().toString());
            assertEquals(1, cli.exitCode(), cli.err().toString());
            assertEquals(1, cli.err().size(), cli.err().toString());
            assertTrue(cli.err().getFirst().startsWith("forkless: metering on failed: no copy of this runtime is metered"),
                    cli.err().toString());
            Admin.Cli bad = Admin.cli("metering", "maybe", "--admin", admin.address());
            assertEquals(2, bad.exitCode(), bad.err().toString());
            assertEquals(List.of("forkless: metering takes on or off, not 'maybe'"), bad.err());
        }
    }
}
