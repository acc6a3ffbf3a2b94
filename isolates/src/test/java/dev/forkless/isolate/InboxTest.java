package dev.forkless.isolate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InboxTest {

    @Test
    void fullInboxDropsAndCountsWhenConfiguredTo() {
        Inbox<Integer> inbox = new Inbox<>(2, false);
        assertTrue(inbox.offer(1));
        assertTrue(inbox.offer(2));
        assertFalse(inbox.offer(3));
        assertEquals(1, inbox.dropped());
        assertEquals(2, inbox.size());
    }

    @Test
    void fullInboxMakesTheSenderWaitForRoom() throws Exception {
        Inbox<Integer> inbox = new Inbox<>(2, true);
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> got = Collections.synchronizedList(new ArrayList<>());
        inbox.start(Thread.ofVirtual(), item -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            got.add(item);
        });
        // the sender only records; the assertions run here, on the test's thread, where a failure fails the test
        List<Boolean> taken = Collections.synchronizedList(new ArrayList<>());
        Thread sender = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 100; i++) {
                taken.add(inbox.offer(i));
            }
        });
        // the sender waits while the inbox is full, and the inbox never grows past its capacity meanwhile
        await().atMost(Duration.ofSeconds(10)).during(Duration.ofMillis(200))
                .until(() -> sender.isAlive() && taken.size() < 100 && inbox.size() <= 2);
        release.countDown();
        assertTrue(sender.join(Duration.ofSeconds(10)), "the sender goes on once there is room");
        assertEquals(100, taken.size());
        assertFalse(taken.contains(false), "no offer was refused: " + taken);
        await().atMost(Duration.ofSeconds(5)).until(() -> got.size() == 100);
        for (int i = 0; i < 100; i++) {
            assertEquals(i, got.get(i));
        }
        assertEquals(0, inbox.dropped());
        inbox.close();
    }

    @Test
    void manyProducersEachKeepTheirOrderAndNothingIsLost() throws Exception {
        Inbox<long[]> inbox = new Inbox<>(64, true);
        int producers = 4;
        int each = 20_000;
        long[] last = new long[producers];
        java.util.Arrays.fill(last, -1);
        java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean ordered = new java.util.concurrent.atomic.AtomicBoolean(true);
        inbox.start(Thread.ofVirtual(), item -> {
            int p = (int) item[0];
            if (item[1] != last[p] + 1) {
                ordered.set(false);
            }
            last[p] = item[1];
            count.incrementAndGet();
        });
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int id = p;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < each; i++) {
                    inbox.offer(new long[] {id, i});
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> count.get() == producers * each);
        assertTrue(ordered.get());
        assertEquals(0, inbox.dropped());
        inbox.close();
    }
}
