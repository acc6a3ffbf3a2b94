package dev.forkless.runtime.state;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    void aDamagedFileIsAnError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("state");
        Files.writeString(file, "what is this\n");
        assertThrows(java.io.IOException.class, () -> SharedStore.persistent(file));
    }
}
