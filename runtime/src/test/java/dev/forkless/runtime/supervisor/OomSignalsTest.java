package dev.forkless.runtime.supervisor;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * A caught error or a crash handed over while the heap is full reaches the supervisor once the heap has
 * room: the handler failing for want of heap is tried again, not dropped.
 */
class OomSignalsTest {

    private final FakeCopy copy = new FakeCopy("1", java.util.OptionalInt.of(1), true, null);

    @Test
    void aCrashWhoseReportFailedForWantOfHeapIsReportedOnceThereIsRoom() {
        AtomicInteger tries = new AtomicInteger();
        List<Throwable> crashes = new CopyOnWriteArrayList<>();
        OutOfMemoryError cause = new OutOfMemoryError("Java heap space");
        try (OomSignals signals = new OomSignals(new OomSignals.Handler() {
            @Override
            public void outOfMemory(Copy c, String thread, String error) {
                throw new AssertionError("not a caught error");
            }

            @Override
            public void crashed(Copy c, Throwable crash) {
                if (tries.incrementAndGet() < 3) {
                    throw new OutOfMemoryError("still full");
                }
                assertSame(copy, c);
                crashes.add(crash);
            }
        })) {
            signals.crashed(copy, cause);
            await().until(() -> crashes.size() == 1);
            assertSame(cause, crashes.getFirst());
            assertEquals(3, tries.get());
        }
    }

    @Test
    void aCaughtErrorIsHandedOnWithItsThreadAndMessage() {
        List<String> seen = new CopyOnWriteArrayList<>();
        try (OomSignals signals = new OomSignals(new OomSignals.Handler() {
            @Override
            public void outOfMemory(Copy c, String thread, String error) {
                seen.add(c.id() + " " + thread + " " + error);
            }

            @Override
            public void crashed(Copy c, Throwable crash) {
                throw new AssertionError("not a crash");
            }
        })) {
            signals.signal(copy, "worker-1", "Java heap space");
            signals.signal(copy, "worker-2", "Java heap space");
            await().until(() -> seen.size() == 2);
            assertEquals(List.of("1 worker-1 Java heap space", "1 worker-2 Java heap space"), seen.stream().sorted().toList());
        }
    }
}
