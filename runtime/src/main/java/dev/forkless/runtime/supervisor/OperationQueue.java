package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.OperationResult;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The supervisor's operations (reload, restart, scale) waiting on its mailbox: one runs at a time, in the
 * order asked, and each answers through its reply. Confined to the mailbox, as the supervisor's state.
 */
final class OperationQueue {

    /** An operation on the copies. */
    sealed interface Operation {
        CompletableFuture<OperationResult> reply();
    }

    /** Replace every copy, one slot at a time. */
    record Reload(String trigger, CompletableFuture<OperationResult> reply) implements Operation {
    }

    /** Replace one copy. */
    record Restart(String workerId, CompletableFuture<OperationResult> reply) implements Operation {
    }

    /** Set the number of serving copies. */
    record Scale(int copies, CompletableFuture<OperationResult> reply) implements Operation {
    }

    private static final OperationResult STOPPING = OperationResult.failed(0, "the runtime is stopping");

    private final Deque<Operation> waiting = new ArrayDeque<>();
    private final Scheduling scheduling;
    /** Runs an operation: its result completes on the mailbox. */
    private final Function<Operation, CompletableFuture<OperationResult>> runner;
    private Operation running;
    private boolean closed;

    OperationQueue(Scheduling scheduling, Function<Operation, CompletableFuture<OperationResult>> runner) {
        this.scheduling = scheduling;
        this.runner = runner;
    }

    /**
     * Queues {@code operation}, or answers it at once when the runtime stops. Reloads that pile up
     * coalesce (as PM2's and nginx's): a reload asked for while another waits to run joins the waiting
     * one, which starts from the app as it is on disk then; 20 SIGHUPs during a reload make one more
     * reload, not 20.
     */
    void add(Operation operation) {
        if (closed) {
            operation.reply().complete(STOPPING);
            return;
        }
        if (operation instanceof Reload mine) {
            for (Operation queued : waiting) {
                if (queued instanceof Reload reload) {
                    reload.reply().whenComplete((result, error) -> mine.reply().complete(result));
                    return;
                }
            }
        }
        waiting.add(operation);
        runNext();
    }

    /** The runtime stops: what waits is answered now, what runs ends as it can, nothing more runs. */
    void stop() {
        closed = true;
        waiting.forEach(operation -> operation.reply().complete(STOPPING));
        waiting.clear();
    }

    /** The runtime stopped: whatever still runs is answered now. */
    void close() {
        stop();
        if (running != null) {
            running.reply().complete(STOPPING);
        }
    }

    private void runNext() {
        while (running == null && !waiting.isEmpty()) {
            Operation operation = waiting.poll();
            running = operation;
            runner.apply(operation).whenComplete((result, error) -> {
                OperationResult answer = result != null ? result : OperationResult.failed(0, String.valueOf(error));
                if (!scheduling.post(() -> finish(operation, answer))) {
                    operation.reply().complete(answer);
                }
            });
        }
    }

    private void finish(Operation operation, OperationResult result) {
        operation.reply().complete(result);
        if (running == operation) {
            running = null;
        }
        runNext();
    }
}
