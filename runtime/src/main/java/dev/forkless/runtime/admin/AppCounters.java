package dev.forkless.runtime.admin;

import dev.forkless.runtime.ForklessEvent;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * What {@code GET /api/app} counts from the runtime's events since the admin API started: rolling reloads
 * that ended, automatic restarts of slots, and the serving copies after the last scale.
 */
final class AppCounters implements Consumer<ForklessEvent> {

    private final AtomicInteger reloads = new AtomicInteger();
    private final AtomicInteger restarts = new AtomicInteger();
    private final AtomicInteger copies;

    AppCounters(int copies) {
        this.copies = new AtomicInteger(copies);
    }

    @Override
    public void accept(ForklessEvent event) {
        switch (event) {
            case ForklessEvent.Reloaded r when r.ok() -> reloads.incrementAndGet();
            case ForklessEvent.Restarting r -> restarts.incrementAndGet();
            case ForklessEvent.Scaled s -> copies.set(s.to());
            default -> {
            }
        }
    }

    int reloads() {
        return reloads.get();
    }

    int restarts() {
        return restarts.get();
    }

    int copies() {
        return copies.get();
    }
}
