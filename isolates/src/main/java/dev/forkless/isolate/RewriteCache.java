package dev.forkless.isolate;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * Rewritten class files, by version of the app's class path, so that a class is rewritten once per jar
 * version and not once per copy: a second copy, a standby and a replacement reuse the bytes the first
 * copy's rewrite produced.
 *
 * <p>An entry is found by the class path's version (its jars' paths, sizes, modification times and file
 * keys, see {@link IsolateClassLoader}), the defining loader's kind, the class name, and the length and
 * CRC-32C of the original bytes: a class generated at run time under the same name with other bytes
 * (a proxy) is a different entry. The rewrite of a class depends only on its bytes and on the class
 * hierarchy the same jars give, so equal keys mean equal results.
 *
 * <p>Bounded: at most {@code maxBytes} of rewritten bytes in all. When a new version would go past it,
 * the versions used least recently are dropped whole (a rolling reload keeps the old and the new).
 */
final class RewriteCache {

    /** What the cache holds unless told otherwise: enough for two versions of a large Spring Boot app. */
    static final long DEFAULT_MAX_BYTES = 192L << 20;

    private record Key(String loaderKind, String className, int length, int crc) {
    }

    private final long maxBytes;
    private final AtomicLong size = new AtomicLong();
    /** Versions, least recently used first; guarded by itself. */
    private final LinkedHashMap<String, Map<Key, byte[]>> versions = new LinkedHashMap<>(4, 0.75f, true);

    RewriteCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * The rewritten bytes of a class, from the cache or from {@code rewrite}.
     *
     * @param version    the class path's version; {@code null}: not cached
     * @param loaderKind the defining loader's kind (its class name), for classes of loaders below an isolate's
     * @param className  the class's name as the loader gives it
     * @param original   the class file as read
     * @param rewrite    makes the rewritten bytes when they are not cached
     * @return the rewritten bytes (never to be modified by the caller)
     */
    byte[] rewritten(String version, String loaderKind, String className, byte[] original, Supplier<byte[]> rewrite) {
        if (version == null || className == null) {
            return rewrite.get();
        }
        CRC32C crc = new CRC32C();
        crc.update(original);
        Key key = new Key(loaderKind, className, original.length, (int) crc.getValue());
        Map<Key, byte[]> classes = classesOf(version);
        // copies starting together wait for the one rewriting a class rather than each rewriting it
        byte[][] made = new byte[1][];
        byte[] result = classes.computeIfAbsent(key, k -> made[0] = rewrite.get());
        if (made[0] != null && size.addAndGet(made[0].length) > maxBytes && !evictOtherThan(version)) {
            if (classes.remove(key, made[0])) {
                size.addAndGet(-made[0].length);
            }
        }
        return result;
    }

    /** @return the bytes the cache holds */
    long size() {
        return size.get();
    }

    private Map<Key, byte[]> classesOf(String version) {
        synchronized (versions) {
            return versions.computeIfAbsent(version, v -> new ConcurrentHashMap<>());
        }
    }

    /** Drops the least recently used versions but {@code keep} until the cache is within its bound. */
    private boolean evictOtherThan(String keep) {
        synchronized (versions) {
            var it = versions.entrySet().iterator();
            while (size.get() > maxBytes && it.hasNext()) {
                Map.Entry<String, Map<Key, byte[]>> oldest = it.next();
                if (oldest.getKey().equals(keep)) {
                    continue;
                }
                long freed = oldest.getValue().values().stream().mapToLong(b -> b.length).sum();
                it.remove();
                size.addAndGet(-freed);
            }
            return size.get() <= maxBytes;
        }
    }
}
