package dev.forkless.runtime.log;

import dev.forkless.runtime.CopyLogLine;
import dev.forkless.runtime.ForklessEvent;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-memory tail of each copy's output that the admin API serves: bounded, escaped, kept a while after a copy went. */
class LogTailTest {

    private static List<String> texts(LogTail tail, String id, int n) {
        return tail.tail(id, n).orElseThrow().stream().map(CopyLogLine::text).toList();
    }

    @Test
    void keepsTheLastLinesOfEachCopyApart() {
        LogTail tail = new LogTail();
        for (int i = 0; i < LogTail.KEEP + 50; i++) {
            tail.line("1", i % 2 == 0 ? "out" : "err", "one " + i);
        }
        tail.line("2", "out", "two");
        List<String> last = texts(tail, "1", 1000);
        assertEquals(LogTail.KEEP, last.size());
        assertEquals("one 50", last.getFirst());
        assertEquals("one " + (LogTail.KEEP + 49), last.getLast());
        assertEquals(List.of("one " + (LogTail.KEEP + 48), "one " + (LogTail.KEEP + 49)), texts(tail, "1", 2));
        assertEquals("err", tail.tail("1", 1).orElseThrow().getFirst().stream());
        assertEquals(List.of("two"), texts(tail, "2", 10));
        assertTrue(tail.tail("3", 10).isEmpty(), "a copy that printed nothing");
    }

    @Test
    void controlCharactersAreEscapedAndLongLinesCut() {
        LogTail tail = new LogTail();
        tail.line("1", "out", "\r[w2] forged\u001b[2J\u0007 \u202e");
        tail.line("1", "out", "y".repeat(LogTail.LONGEST + 123));
        List<String> lines = texts(tail, "1", 2);
        assertEquals("\\r[w2] forged\\e[2J\\x07 \\u202e", lines.get(0));
        assertEquals("y".repeat(LogTail.LONGEST) + " [123 more characters]", lines.get(1));
    }

    @Test
    void theTailOfACopyThatWentIsKeptForTheLastFew() {
        LogTail tail = new LogTail();
        for (int id = 1; id <= LogTail.GONE + 2; id++) {
            tail.line(String.valueOf(id), "err", "last words of " + id);
            tail.accept(new ForklessEvent.Unloaded(Instant.now(), String.valueOf(id), dev.forkless.runtime.Mode.ISOLATE, List.of()));
        }
        tail.line(String.valueOf(LogTail.GONE + 2), "err", "a pipe's late line");
        assertTrue(tail.tail("1", 10).isEmpty(), "the oldest gone copies are forgotten");
        assertTrue(tail.tail("2", 10).isEmpty());
        assertEquals(List.of("last words of 3"), texts(tail, "3", 10));
        assertEquals(List.of("last words of " + (LogTail.GONE + 2), "a pipe's late line"),
                texts(tail, String.valueOf(LogTail.GONE + 2), 10));
    }
}
