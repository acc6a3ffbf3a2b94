package dev.forkless.runtime.admin;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
