package dev.forkless.isolate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class RewriteCacheTest {

    private final AtomicInteger rewrites = new AtomicInteger();

    private Supplier<byte[]> rewriteOf(byte[] original) {
        return () -> {
            rewrites.incrementAndGet();
            byte[] out = original.clone();
            out[0]++;
            return out;
        };
    }

    @Test
    void aClassOfTheSameJarVersionIsRewrittenOnce() {
        RewriteCache cache = new RewriteCache(1 << 20);
        byte[] original = {1, 2, 3};
        byte[] first = cache.rewritten("v1", "", "a.A", original, rewriteOf(original));
        byte[] second = cache.rewritten("v1", "", "a.A", original.clone(), rewriteOf(original));
        assertSame(first, second);
        assertEquals(1, rewrites.get());
        assertArrayEquals(new byte[] {2, 2, 3}, second);
    }

    @Test
    void otherBytesUnderTheSameNameOrAnotherVersionAreRewrittenAgain() {
        RewriteCache cache = new RewriteCache(1 << 20);
        byte[] original = {1, 2, 3};
        byte[] generated = {1, 2, 4}; // a proxy generated with the same name and other bytes
        cache.rewritten("v1", "", "a.A", original, rewriteOf(original));
        assertArrayEquals(new byte[] {2, 2, 4}, cache.rewritten("v1", "", "a.A", generated, rewriteOf(generated)));
        cache.rewritten("v2", "", "a.A", original, rewriteOf(original));
        cache.rewritten("v1", "loader", "a.A", original, rewriteOf(original));
        cache.rewritten(null, "", "a.A", original, rewriteOf(original));
        cache.rewritten(null, "", "a.A", original, rewriteOf(original));
        assertEquals(6, rewrites.get());
    }

    @Test
    void theLeastRecentlyUsedVersionGoesWhenTheBoundIsReached() {
        RewriteCache cache = new RewriteCache(8);
        byte[] four = {1, 2, 3, 4};
        cache.rewritten("old", "", "a.A", four, rewriteOf(four));
        cache.rewritten("current", "", "a.A", four, rewriteOf(four));
        cache.rewritten("current", "", "a.A", four, rewriteOf(four)); // cached: current is the newest
        assertEquals(2, rewrites.get());
        cache.rewritten("next", "", "a.A", four, rewriteOf(four)); // "old" goes
        assertEquals(8, cache.size());
        cache.rewritten("current", "", "a.A", four, rewriteOf(four));
        assertEquals(3, rewrites.get());
        cache.rewritten("old", "", "a.A", four, rewriteOf(four));
        assertEquals(4, rewrites.get());
        assertEquals(8, cache.size());
    }
}
