package dev.forkless.runtime;


import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared state in isolate mode: a change reaches every copy's listener quickly (pushed), a copy started
 * after it sees it from the start, a copy's own change reaches the others, and with a state file the
 * values survive a restart of the runtime.
 */
class SharedStateIT {

    private static final int CHANGES = 30;

    @BeforeAll
    static void letCrashesReachTheRuntime() {
        org.awaitility.Awaitility.doNotCatchUncaughtExceptionsByDefault();
    }

    @Test
    void changesArePushedToEveryCopyAndSurviveARestart(@TempDir Path dir) throws Exception {
        Path stateFile = dir.resolve("state");
        Map<String, List<String>> received = new ConcurrentHashMap<>();
        Map<String, Long> arrivals = new ConcurrentHashMap<>();
        try (Forkless forkless = MessagesIT.messagingApp(Mode.ISOLATE)
                .sharedStateFile(stateFile)
                .onMessage((id, m) -> {
                    arrivals.put(id + " " + m.text(), System.nanoTime());
                    received.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>())).add(m.text());
                })
                .build()
                .start()) {
            List<String> ids = forkless.workers().stream().map(WorkerSnapshot::id).toList();

            // the embedder changes a key: each copy's listener hears of it, measured to the echo
            List<Long> latencies = new ArrayList<>();
            for (int i = 0; i < CHANGES; i++) {
                long start = System.nanoTime();
                forkless.sharedState().put("color", "c" + i);
                String expected = "changed color=c" + i;
                await().atMost(Duration.ofSeconds(5)).until(() -> ids.stream().allMatch(id -> arrivals.containsKey(id + " " + expected)));
                for (String id : ids) {
                    latencies.add(arrivals.get(id + " " + expected) - start);
                }
            }
            Collections.sort(latencies);
            long p50 = latencies.get(latencies.size() / 2) / 1_000;
            long p90 = latencies.get(latencies.size() * 9 / 10) / 1_000;
            long max = latencies.getLast() / 1_000;
            System.out.println("SharedStateIT: change -> every copy's listener -> message back, " + latencies.size()
                    + " samples: p50 " + p50 + " us, p90 " + p90 + " us, max " + max + " us");
            // bounds a busy machine meets (CI beside two builds: p90 81 ms, max 128 ms); the quiet figures are in
            // docs/benchmarks.md. A change that is lost fails the wait above.
            assertTrue(p90 < 1_000_000, "90% of changes reach a copy within 1 s, was " + p90 + " us");
            assertTrue(max < 5_000_000, "every change reaches every copy within 5 s, was " + max + " us");

            // a copy changes a key: it sees its own write when put returns, the other copies hear of it
            assertTrue(forkless.send(ids.getFirst(), "put size large"));
            await().atMost(Duration.ofSeconds(5)).until(() -> received.get(ids.getFirst()).contains("put done size sees large")
                    && received.get(ids.getLast()).contains("changed size=large"));
            assertEquals("large", forkless.sharedState().get("size"));

            // a copy started after the changes sees them at start
            forkless.sharedState().put("color", "blue");
            assertTrue(forkless.scale(3).get().ok());
            String third = forkless.workers().stream().map(WorkerSnapshot::id).filter(id -> !ids.contains(id))
                    .findFirst().orElseThrow();
            await().atMost(Duration.ofSeconds(5)).until(() -> received.containsKey(third));
            assertEquals("hello color=blue", received.get(third).getFirst());

            assertTrue(forkless.sharedState().remove("size"));
            await().atMost(Duration.ofSeconds(5)).until(() -> received.get(third).contains("changed size=null"));
        }

        // the runtime restarts over the same file: the acknowledged values are there
        List<String> hellos = new CopyOnWriteArrayList<>();
        try (Forkless again = MessagesIT.messagingApp(Mode.ISOLATE)
                .copies(1)
                .sharedStateFile(stateFile)
                .onMessage((id, m) -> hellos.add(m.text()))
                .build()) {
            assertEquals(Map.of("color", "blue"), again.sharedState().snapshot());
            again.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> !hellos.isEmpty());
            assertEquals("hello color=blue", hellos.getFirst());
        }
        // the journal's own format (docs/architecture.md): a versioned header, base64 keys and values
        java.util.Base64.Encoder base64 = java.util.Base64.getEncoder();
        String journal = Files.readString(stateFile);
        assertTrue(journal.startsWith("forkless-state 1\n") && journal.contains("put "
                + base64.encodeToString("color".getBytes(java.nio.charset.StandardCharsets.UTF_8)) + " "
                + base64.encodeToString("blue".getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "\n"), journal);
    }
}
