package dev.forkless.runtime.meter;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

import com.sun.management.GarbageCollectionNotificationInfo;

/**
 * The heap in use right after the JVM's last GC (the heap pools only: metaspace and the code cache are
 * left out), from the GC's notifications: what the JVM keeps, as opposed to the heap in use now, which
 * counts garbage not collected yet.
 */
final class HeapAfterGc implements AutoCloseable {

    private final AtomicLong bytes = new AtomicLong(-1);
    private final AtomicLong gcs = new AtomicLong();
    private final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .map(java.lang.management.MemoryPoolMXBean::getName)
            .collect(Collectors.toUnmodifiableSet());
    private final NotificationListener onGc = this::gcEnded;
    private final Runnable afterGc;

    /** @param afterGc runs after each GC's figure is taken (on the JVM's notification thread: must not block) */
    HeapAfterGc(Runnable afterGc) {
        this.afterGc = afterGc;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                emitter.addNotificationListener(onGc, null, null);
            }
        }
    }

    HeapAfterGc() {
        this(() -> { });
    }

    private void gcEnded(Notification n, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            return;
        }
        var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
        long used = 0;
        for (Map.Entry<String, MemoryUsage> pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            if (heapPools.contains(pool.getKey())) {
                used += pool.getValue().getUsed();
            }
        }
        bytes.set(used);
        gcs.incrementAndGet();
        afterGc.run();
    }

    /** @return the heap in use after the JVM's last GC, or -1 before the first */
    long bytes() {
        return bytes.get();
    }

    /** @return GCs seen so far */
    long gcs() {
        return gcs.get();
    }

    @Override
    public void close() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                try {
                    emitter.removeNotificationListener(onGc);
                } catch (ListenerNotFoundException ignored) {
                    // never added
                }
            }
        }
    }
}
