package dev.forkless.runtime.admin;

import dev.forkless.runtime.log.EventLog;
import dev.forkless.runtime.ForklessEvent;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;

/**
 * The last events (starts, crashes, drains, reloads, memory restarts), for {@code GET /api/events} and the
 * dashboard's timeline: each as its time and its log line.
 */
final class EventTimeline implements Consumer<ForklessEvent> {

    static final int KEEP = 200;

    /** Guarded by {@code this}. */
    private final Deque<Entry> entries = new ArrayDeque<>();

    /** Keeps the event; runs on the supervisor's thread, never blocks for long. */
    @Override
    public synchronized void accept(ForklessEvent event) {
        entries.addLast(new Entry(event.time().toEpochMilli(), EventLog.format(event)));
        while (entries.size() > KEEP) {
            entries.removeFirst();
        }
    }

    /** @return the kept events, oldest first */
    synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    /**
     * One event.
     *
     * @param timeMs when, in ms since the epoch
     * @param line   its log line ({@code forkless isolate=3 event=crashed cause="..."})
     */
    record Entry(long timeMs, String line) {
    }
}
