package dev.forkless.runtime;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What happens in a runtime, as values: the CLI's log, metrics and embedders all read these from one
 * place ({@link Forkless.Builder#listener}).
 */
public sealed interface ForklessEvent {

    /** @return when it happened */
    Instant time();

    /** An event of one copy. */
    sealed interface WorkerEvent extends ForklessEvent {
        /** @return the copy's id */
        String workerId();

        /** @return how it runs (its text, in the event log and the admin API: {@code isolate} or {@code process}) */
        Mode mode();
    }

    /** The runtime bound a listening socket for the app. */
    record Listening(Instant time, InetSocketAddress address) implements ForklessEvent {
    }

    /** A copy is being started. */
    record Started(Instant time, String workerId, Mode mode, String slot, boolean standby) implements WorkerEvent {
    }

    /** A copy is ready: serving, or kept warm as a standby. */
    record Ready(Instant time, String workerId, Mode mode, Duration startTime) implements WorkerEvent {
    }

    /** A standby took over a slot. */
    record Promoted(Instant time, String workerId, Mode mode, String slot) implements WorkerEvent {
    }

    /** An exception escaped the app's {@code main} or one of its threads. */
    record Crashed(Instant time, String workerId, Mode mode, String cause, String stackTrace) implements WorkerEvent {
    }

    /** The app exited ({@code System.exit}, {@code Runtime.halt}, or {@code main} returned with nothing running). */
    record Exited(Instant time, String workerId, Mode mode, int status) implements WorkerEvent {
    }

    /**
     * A copy started by a reload, restart or scale was not ready within the ready timeout but has not ended
     * either: it is slow, not failed, and is waited for up to {@code limit} in all.
     */
    record SlowStart(Instant time, String workerId, Mode mode, Duration waited, Duration limit) implements WorkerEvent {
    }

    /** A copy stopped making progress (a request or its acceptor stuck past the hang timeout). */
    record Hung(Instant time, String workerId, Mode mode, String reason) implements WorkerEvent {
    }

    /** A copy stopped accepting; its open connections are finishing. */
    record Draining(Instant time, String workerId, Mode mode, int openConnections) implements WorkerEvent {
    }

    /** A copy's drain ended. */
    record Drained(Instant time, String workerId, Mode mode, Duration took, int forcedConnections)
            implements WorkerEvent {
    }

    /** A copy was unloaded; threads that would not stop are named. */
    record Unloaded(Instant time, String workerId, Mode mode, List<String> leftoverThreads) implements WorkerEvent {
        public Unloaded {
            leftoverThreads = List.copyOf(leftoverThreads);
        }
    }

    /** A slot will be restarted after a delay. */
    record Restarting(Instant time, String slot, int attempt, Duration delay) implements ForklessEvent {
    }

    /** A slot failed too often in a row and is no longer restarted. */
    record Errored(Instant time, String slot, int unstableRestarts, String lastCause) implements ForklessEvent {
    }

    /** A rolling reload started: every copy is replaced, one at a time. */
    record Reloading(Instant time, String trigger) implements ForklessEvent {
    }

    /** A rolling reload ended: all copies replaced, or aborted with the old copies still serving. */
    record Reloaded(Instant time, boolean ok, int replaced, String reason, Duration took) implements ForklessEvent {
    }

    /** The number of serving copies changed. */
    record Scaled(Instant time, int from, int to) implements ForklessEvent {
    }

    /**
     * A reload with new settings ({@code reload --update-env}) took the settings it could change on a live
     * runtime; the ones it could not wait for a restart. The reload itself follows.
     *
     * @param applied    the settings that changed and are applied, by their config file keys
     * @param notApplied the settings that changed but need a restart of the runtime
     */
    record SettingsChanged(Instant time, java.util.List<String> applied, java.util.List<String> notApplied)
            implements ForklessEvent {
        public SettingsChanged {
            applied = java.util.List.copyOf(applied);
            notApplied = java.util.List.copyOf(notApplied);
        }
    }

    /** An isolate leaked threads: from now on copies run as child processes (with {@code --escalate}). */
    record Escalated(Instant time, String reason) implements ForklessEvent {
    }

    /**
     * The runtime's own JVM keeps burning CPU although every copy runs as a process: threads leaked by
     * isolates. The CLI answers by handing its sockets to a fresh runtime JVM.
     */
    record CpuLeak(Instant time, double cores) implements ForklessEvent {
    }

    /**
     * The memory guard ({@code --max-memory}) replaces a copy, without downtime.
     *
     * @param measure what passed the limit: {@code rss} (a child's resident memory) or {@code heap-after-gc}
     *                (the runtime JVM's heap after its last GC; the copy is the one that allocated the most)
     * @param bytes   that figure
     * @param limit   the limit
     */
    record MemoryRestart(Instant time, String workerId, Mode mode, String measure, long bytes, long limit)
            implements WorkerEvent {
    }

    /**
     * A copy's code caught an {@code OutOfMemoryError} (a framework's request loop that catches
     * {@code Throwable} and goes on): the copy is replaced as by a restart, without downtime.
     *
     * @param thread the thread that caught it
     * @param error  the error's message ({@code Java heap space}, ...)
     */
    record OomRestart(Instant time, String workerId, Mode mode, String thread, String error) implements WorkerEvent {
    }

    /** The runtime started stopping. */
    record Stopping(Instant time, String reason, int exitCode) implements ForklessEvent {
    }
}
