package dev.forkless.runtime.state;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StateFileTest {

    @Test
    void everyAcknowledgedChangeIsReadBack(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        try (SharedStore store = SharedStore.persistent(file)) {
            store.put("a", "1");
            store.put("b", "two words\nand a line");
            store.put("a", "3");
            store.put("c", "");
            store.remove("c");
        }
        try (SharedStore store = SharedStore.persistent(file)) {
            assertEquals(Map.of("a", "3", "b", "two words\nand a line"), store.snapshot());
        }
    }

    @Test
    void anUnfinishedLastLineWasNeverAcknowledgedAndIsIgnored(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        try (SharedStore store = SharedStore.persistent(file)) {
            store.put("a", "1");
        }
        Files.writeString(file, "put b 2", StandardOpenOption.APPEND); // a crash in the middle of a write
        try (SharedStore store = SharedStore.persistent(file)) {
            assertEquals(Map.of("a", "1"), store.snapshot());
            store.put("c", "3");
        }
        try (SharedStore store = SharedStore.persistent(file)) {
            assertEquals(Map.of("a", "1", "c", "3"), store.snapshot());
        }
    }

    @Test
    void theJournalIsCompactedAsItGrows(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        try (SharedStore store = SharedStore.persistent(file)) {
            for (int i = 0; i < 3_000; i++) {
                store.put("k", String.valueOf(i));
            }
        }
        assertEquals(true, Files.readAllLines(file).size() < 1_100, "compacted");
        try (SharedStore store = SharedStore.persistent(file)) {
            assertEquals(Map.of("k", "2999"), store.snapshot());
        }
    }

    @Test
    void theJournalIsItsOwnFormatWithAVersionedHeader(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        try (SharedStore store = SharedStore.persistent(file)) {
            store.put("a key", "line one\nline two é");
            store.put("gone", "x");
            store.remove("gone");
            store.put("empty", "");
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals("forkless-state 1", lines.getFirst());
        assertEquals(List.of(
                "put " + b64("a key") + " " + b64("line one\nline two é"),
                "put " + b64("gone") + " " + b64("x"),
                "del " + b64("gone"),
                "put " + b64("empty") + " "), lines.subList(1, lines.size()));
        try (SharedStore store = SharedStore.persistent(file)) {
            assertEquals(Map.of("a key", "line one\nline two é", "empty", ""), store.snapshot());
        }
    }

    private static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A journal as Forkless wrote it before the format had a header (URL-encoded words, {@code %00}: empty). */
    @Test
    void aJournalOfTheFormerFormatLoadsWhole(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        Files.writeString(file, """
                put a 1
                put spaced two+words%0Aand+a+line
                put empty %00
                put gone x
                del gone
                put %C3%A9t%C3%A9 %E2%98%83
                put a 3
                """);
        Map<String, String> expected = Map.of("a", "3", "spaced", "two words\nand a line", "empty", "", "été", "☃");
        try (SharedStore store = SharedStore.persistent(file)) {
            assertEquals(expected, store.snapshot());
            store.put("new", "value");
        }
        assertEquals("forkless-state 1", Files.readAllLines(file).getFirst(), "moved to the current format");
        try (SharedStore store = SharedStore.persistent(file)) {
            Map<String, String> after = new java.util.HashMap<>(expected);
            after.put("new", "value");
            assertEquals(after, store.snapshot());
        }
    }

    @Test
    void aTornLastLineIsIgnoredWithAWarning(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        try (SharedStore store = SharedStore.persistent(file)) {
            store.put("a", "1");
        }
        Files.writeString(file, "put " + b64("b"), StandardOpenOption.APPEND); // the crash cut the record short
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger("forkless.state");
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        try (SharedStore store = SharedStore.persistent(file)) {
            assertEquals(Map.of("a", "1"), store.snapshot());
        } finally {
            logger.removeHandler(handler);
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains("unfinished last line"), warnings.getFirst());
    }

    @Test
    void aJournalOfANewerVersionIsAnError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        Files.writeString(file, "forkless-state 2\nput YQ== MQ==\n");
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> SharedStore.persistent(file));
        assertTrue(e.getMessage().contains("forkless-state 2"), e.getMessage());
        assertEquals("forkless-state 2\nput YQ== MQ==\n", Files.readString(file), "left as it was");
    }

    @Test
    void aDamagedFileIsAnError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        Files.writeString(file, "what is this\n");
        assertThrows(java.io.IOException.class, () -> SharedStore.persistent(file));
        Files.writeString(file, "forkless-state 1\nput YQ== MQ==\nput !!! MQ==\n");
        assertThrows(java.io.IOException.class, () -> SharedStore.persistent(file));
    }
}
