package dev.forkless.runtime;

import dev.forkless.api.Message;

import dev.forkless.runtime.testing.TestJars;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** 10,000 messages each way with 2 copies, none lost, each sender's order kept; both modes. */
class MessagesIT {

    static final int N = 10_000;

    @BeforeAll
    static void letCrashesReachTheRuntime() {
        org.awaitility.Awaitility.doNotCatchUncaughtExceptionsByDefault();
    }

    /** The test app, as a main class on a class path: each copy still gets its own loader over it. */
    static Forkless.Builder messagingApp(Mode mode) throws Exception {
        Path jar = TestJars.testApp(Files.createTempFile("messaging", ".jar"), testapps.MessagingApp.class);
        jar.toFile().deleteOnExit();
        return Forkless.builder()
                .app("testapps.MessagingApp", List.of(jar))
                .copies(2)
                .standby(0)
                .mode(mode);
    }

    @ParameterizedTest
    @EnumSource(value = Mode.class, names = {"ISOLATE", "PROCESS"})
    void tenThousandEachWayNoneLostInOrder(Mode mode) throws Exception {
        Map<String, List<String>> received = new ConcurrentHashMap<>();
        Forkless.Builder builder = messagingApp(mode)
                .onMessage((id, m) -> received.computeIfAbsent(id, k -> Collections.synchronizedList(new ArrayList<>()))
                        .add(m.text()));
        try (Forkless forkless = builder.build()) {
            forkless.sharedState().put("color", "green");
            forkless.start();
            List<String> ids = forkless.workers().stream().map(WorkerSnapshot::id).toList();
            assertEquals(2, ids.size());
            await().atMost(Duration.ofSeconds(10)).until(() -> ids.stream().allMatch(id -> received.containsKey(id)));
            for (String id : ids) {
                // a copy sees the shared state from the start of its main
                assertEquals("hello color=green", received.get(id).getFirst());
            }

            long start = System.nanoTime();
            for (String id : ids) {
                assertTrue(forkless.send(id, "flood " + N));
            }
            for (int i = 0; i < N; i++) {
                for (String id : ids) {
                    assertTrue(forkless.send(id, "e " + i), "send " + i + " to " + id);
                }
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream().allMatch(id -> received.get(id).size() >= 2 * N + 1));
            long ms = (System.nanoTime() - start) / 1_000_000;
            for (String id : ids) {
                List<String> got;
                synchronized (received.get(id)) {
                    got = List.copyOf(received.get(id));
                }
                assertEquals(2 * N + 1, got.size(), "copy " + id + " sent more than expected");
                assertEquals(sequence("e ", N), got.stream().filter(s -> s.startsWith("e ")).toList(), "runtime -> copy " + id);
                assertEquals(sequence("f ", N), got.stream().filter(s -> s.startsWith("f ")).toList(), "copy " + id + " -> runtime");
            }
            System.out.println("MessagesIT " + mode + ": " + 4 * N + " messages (2 copies, " + N + " each way) in " + ms + " ms");
            assertEquals(0, forkless.droppedMessages());
            // bytes go through as bytes
            byte[] payload = {0, 1, 2, (byte) 0xff, '\n', ' '};
            List<String> first = received.get(ids.getFirst());
            assertTrue(forkless.send(ids.getFirst(), Message.of(payload)));
            await().atMost(Duration.ofSeconds(5)).until(() -> first.size() == 2 * N + 2);
            assertEquals(new String(payload, java.nio.charset.StandardCharsets.UTF_8), first.getLast());
        }
    }

    private static List<String> sequence(String prefix, int n) {
        List<String> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            all.add(prefix + i);
        }
        return all;
    }
}
