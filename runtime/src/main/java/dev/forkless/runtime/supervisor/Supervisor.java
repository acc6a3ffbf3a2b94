package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.ForklessException;
import dev.forkless.runtime.OperationResult;
import dev.forkless.runtime.RestartPolicy;
import dev.forkless.runtime.WorkerSnapshot;
import dev.forkless.runtime.WorkerState;
import dev.forkless.isolate.BadAppException;
import dev.forkless.isolate.Isolate;
import dev.forkless.runtime.ForklessEvent.Crashed;
import dev.forkless.runtime.ForklessEvent.Drained;
import dev.forkless.runtime.ForklessEvent.Draining;
import dev.forkless.runtime.ForklessEvent.Errored;
import dev.forkless.runtime.ForklessEvent.Exited;
import dev.forkless.runtime.ForklessEvent.Promoted;
import dev.forkless.runtime.ForklessEvent.Ready;
import dev.forkless.runtime.ForklessEvent.Restarting;
import dev.forkless.runtime.ForklessEvent.Started;
import dev.forkless.runtime.ForklessEvent.Stopping;
import dev.forkless.runtime.ForklessEvent.Unloaded;
import dev.forkless.runtime.supervisor.OperationQueue.Operation;
import dev.forkless.runtime.supervisor.OperationQueue.Reload;
import dev.forkless.runtime.supervisor.OperationQueue.Restart;
import dev.forkless.runtime.supervisor.OperationQueue.Scale;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Keeps N copies of the app serving, plus warm standbys, as an Erlang/OTP one-for-one supervisor does.
 *
 * <p>A state machine on one thread, its mailbox ({@link Scheduling}): copies report on any thread and
 * the reports are queued there, and so are the operations (reload, restart, scale), which answer through
 * a {@link CompletableFuture}; decisions never race and nothing waits on the mailbox. Its state is one
 * {@link Slot} per slot (the restart history, with the pure decisions) and one {@link CopyRecord} per
 * copy (its slot, its state, its times). Slow work (starting a copy, unloading one) runs off the mailbox
 * and reports back; timers (back-off, ready timeout, drain timeout, the hang watchdog) post to it.
 *
 * <p>When a copy ends, its replacement comes first: a ready standby takes over its slot at once, or a
 * new copy is started after the slot's back-off ({@link RestartPolicy}). Then the ended copy drains:
 * it accepts no more, its responses carry {@code Connection: close}, and after its open connections
 * end (or the drain timeout) it is unloaded.
 */
public final class Supervisor implements Copy.Events {

    /** How often a draining copy's open connections are looked at. */
    static final Duration POLL = Duration.ofMillis(10);
    /**
     * How long after a promotion the standby slot starts its new copy: a copy starting loads and rewrites
     * every class of the app, and on a machine with few processors that slowed the promoted copy's first
     * answers (crash -> the replacement answering, 1 copy, 8 crashes: median 48 ms starting at once,
     * 32 ms half a second later; docs/benchmarks.md).
     */
    static final Duration STANDBY_AFTER_PROMOTION = Duration.ofMillis(500);
    /**
     * A restart this long past its time has been lost (its timer could not queue it while a copy filled the
     * heap, for longer than {@link Scheduling} tries): the safety net ({@link #fillEmptySlots}) starts the copy.
     */
    static final Duration RESTART_LOST_AFTER = Duration.ofSeconds(30);
    /** A scale waits at least this long for its new copies. */
    private static final Duration SCALE_READY_MIN = Duration.ofSeconds(30);
    /**
     * A new copy that is still starting at the ready timeout gets up to this many ready timeouts in all
     * before a reload gives up on it: slow is not failed (see decisions.md, "A slow start is not a failed
     * reload").
     */
    static final int READY_LIMIT_FACTOR = 10;

    /**
     * The runtime's own threads are platform threads, not virtual ones: an isolate's virtual thread that
     * spins in JDK code (where loop checks cannot reach) pins a carrier of the JVM-wide virtual-thread
     * scheduler, whose parallelism is the number of cores; the runtime must still start, drain and
     * replace copies then. (Seen: with one such spinner under load on 2 cores, a reload stalled for
     * over 40 s while its steps ran on virtual threads.)
     */
    public static Thread.Builder.OfPlatform runtimeThreads() {
        return Thread.ofPlatform().daemon(true);
    }

    /**
     * Creates copies: (id, the slot's instance number, accepting from the start) -> copy. The instance
     * number is empty for a standby: it learns one when promoted ({@link Copy#takeInstance}).
     */
    public interface CopyFactory {
        Copy create(String id, OptionalInt instance, boolean accepting, Copy.Events events);

        /**
         * Whether a copy made earlier is still what this factory makes now. {@code --escalate} moves new copies
         * to process mode; a standby started as an isolate before that is not promoted, since it would serve
         * in the runtime's JVM after the move to get out of it (its slot's new copy is a process).
         *
         * @param copy a copy this factory made
         * @return false when the factory now makes copies of another mode
         */
        default boolean makesLike(Copy copy) {
            return true;
        }
    }

    private final CopyFactory factory;
    /** Read on the mailbox and the timers; replaced by {@link #reconfigure} (a reload with new settings). */
    private volatile RestartPolicy policy;
    private volatile Duration readyTimeout;
    /** A serving copy with no progress for this long is hung; zero: no watchdog. */
    private final Duration hangTimeout;
    private final Consumer<ForklessEvent> listener;
    private final Scheduling scheduling;
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Integer> terminated = new CompletableFuture<>();
    /** Copies whose code caught an OutOfMemoryError, told without allocating (see {@link #outOfMemory}). */
    private final OomSignals oomSignals = new OomSignals(new OomSignals.Handler() {
        @Override
        public void outOfMemory(Copy copy, String thread, String error) {
            onOutOfMemory(copy, thread, error);
        }

        @Override
        public void crashed(Copy copy, Throwable cause) {
            reportCrash(copy, cause);
        }
    });

    // ---- confined to the mailbox ----
    /** Every slot by name, serving and standby. */
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    /** Slots whose restart after back-off is scheduled and has not run yet, with when it is due. */
    private final Map<String, Instant> restartsPending = new java.util.HashMap<>();
    /** Every copy not yet unloaded, in the order they were started or began to drain; copies are equal only to themselves. */
    private final Map<Copy, CopyRecord> copies = new LinkedHashMap<>();
    /** Draining copies whose drain is polled or unloading ({@link #awaitDrained}), until their unload reported. */
    private final java.util.Set<Copy> drainsWatched = new java.util.HashSet<>();
    private final OperationQueue operations;
    private int lastId;
    /** Where copy ids come from when several apps share the JVM (ids unique across them); null: this supervisor's own count. */
    private volatile java.util.function.IntSupplier sharedIds;
    /** Told instead of stopping when no serving slot will run a copy again; null: the supervisor stops itself. */
    private volatile NoSlotServes noSlotServes;
    private long lastGeneration;
    private boolean stopping;
    private boolean everReady;
    private int exitCode;

    public Supervisor(CopyFactory factory, RestartPolicy policy, Duration readyTimeout, Duration hangTimeout,
               Consumer<ForklessEvent> listener) {
        this(factory, policy, readyTimeout, hangTimeout, listener, Scheduling.onThreads());
    }

    Supervisor(CopyFactory factory, RestartPolicy policy, Duration readyTimeout, Duration hangTimeout,
               Consumer<ForklessEvent> listener, Scheduling scheduling) {
        this.factory = factory;
        this.policy = policy;
        this.readyTimeout = readyTimeout;
        this.hangTimeout = hangTimeout;
        this.listener = listener;
        this.scheduling = scheduling;
        this.operations = new OperationQueue(scheduling, operation -> switch (operation) {
            case Reload reload -> rollingReload(reload.trigger());
            case Restart restart -> restartCopy(restart.workerId());
            case Scale scale -> scaleTo(scale.copies());
        });
    }

    // ---- the API: any thread ----

    /** What a supervisor that shares the runtime with other apps does once none of its serving slots runs a copy. */
    @FunctionalInterface
    public interface NoSlotServes {
        /**
         * @param reason   why, for the log
         * @param exitCode 1 when a slot errored, else 0
         */
        void noSlotServes(String reason, int exitCode);
    }

    /**
     * Shares the runtime with other apps, before {@link #start}: copy ids come from {@code ids} (unique
     * across the apps), and once no serving slot will run a copy again the supervisor keeps its errored
     * and stopped slots (for {@code list}) and tells {@code done} instead of stopping itself.
     *
     * @param ids  the runtime's copy ids
     * @param done told when no serving slot runs a copy any more
     */
    public void shareRuntime(java.util.function.IntSupplier ids, NoSlotServes done) {
        this.sharedIds = java.util.Objects.requireNonNull(ids);
        this.noSlotServes = java.util.Objects.requireNonNull(done);
    }

    /**
     * Takes a new restart policy and ready timeout (a reload with new settings): the next restart, drain
     * and start use them; what runs goes on as it is.
     *
     * @param policy       the restart policy
     * @param readyTimeout the ready timeout
     */
    public void reconfigure(RestartPolicy policy, Duration readyTimeout) {
        this.policy = java.util.Objects.requireNonNull(policy);
        this.readyTimeout = java.util.Objects.requireNonNull(readyTimeout);
    }

    /**
     * Starts {@code copies} serving copies and {@code standby} standbys, and waits until every serving
     * copy is ready.
     *
     * @throws ForklessException when the app cannot start
     */
    public void start(int copies, int standby) {
        try {
            startAsync(copies, standby).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ForklessException("interrupted while starting", 1);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof ForklessException f ? f : new ForklessException(e.getCause().toString(), 1);
        }
    }

    /**
     * Starts {@code copies} serving copies and {@code standby} standbys.
     *
     * @return completes once every serving copy is ready; fails with a {@link ForklessException} when the
     *         app cannot start
     */
    public CompletableFuture<Void> startAsync(int copies, int standby) {
        terminated.thenAccept(code -> started.completeExceptionally(
                new ForklessException("the runtime stopped while starting", code)));
        if (!hangTimeout.isZero()) {
            Duration period = Duration.ofMillis(Math.max(100, Math.min(1000, hangTimeout.toMillis() / 4)));
            scheduling.schedule(period, () -> watchHangs(period));
        }
        post(() -> {
            for (int i = 1; i <= copies; i++) {
                launch(put(Slot.serving(String.valueOf(i), ++lastGeneration)));
            }
            for (int i = 1; i <= standby; i++) {
                launch(put(Slot.standby("s" + i, ++lastGeneration)));
            }
        });
        return started;
    }

    /** Stops every copy, draining them; completes {@link #terminated()} with {@code exitCode}. */
    public CompletableFuture<Integer> stop(String reason, int exitCode) {
        return stop(reason, exitCode, () -> { });
    }

    /**
     * Stops every copy, as {@link #stop(String, int)}, and runs {@code notAccepting} on the mailbox once every
     * copy has stopped accepting, before they drained (not at all when the supervisor had terminated).
     */
    public CompletableFuture<Integer> stop(String reason, int exitCode, Runnable notAccepting) {
        post(() -> {
            beginStop(reason, exitCode);
            notAccepting.run();
        });
        return terminated;
    }

    /** @return completes with the runtime's exit code once every copy is stopped */
    public CompletableFuture<Integer> terminated() {
        return terminated;
    }

    /** @return a snapshot of every copy; empty once terminated, or when the mailbox does not answer in 5 s */
    public List<WorkerSnapshot> workers() {
        try {
            return workersAsync().get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        } catch (ExecutionException | TimeoutException e) {
            return List.of();
        }
    }

    /** @return completes with a snapshot of every copy; with none once terminated */
    CompletableFuture<List<WorkerSnapshot>> workersAsync() {
        CompletableFuture<List<WorkerSnapshot>> result = new CompletableFuture<>();
        if (terminated.isDone() || !post(() -> result.complete(snapshot()))) {
            result.complete(List.of()); // the mailbox is gone: nothing would answer
        }
        return result;
    }

    /**
     * Replaces every copy, one slot at a time: a new copy (from the app as it is now on disk) starts, and
     * only once it is ready does the old one drain. A new copy that fails (its {@code main} throws, it
     * exits, it cannot start) aborts the reload at once; one still starting at the ready timeout is waited
     * for up to {@link #READY_LIMIT_FACTOR} ready timeouts in all ({@link #readyLimit}) before the reload
     * aborts. Either way the old copies keep serving.
     *
     * <p>Reloads that pile up coalesce ({@link OperationQueue#add}).
     *
     * @param trigger what asked for it, for the log
     * @return how it ended
     */
    public CompletableFuture<OperationResult> reload(String trigger) {
        return submit(new Reload(trigger, new CompletableFuture<>()));
    }

    /**
     * Replaces one copy without downtime, as {@link #reload} does for every copy.
     *
     * @param workerId the copy's id
     * @return how it ended; not ok when no copy has that id
     */
    public CompletableFuture<OperationResult> restart(String workerId) {
        return submit(new Restart(workerId, new CompletableFuture<>()));
    }

    /**
     * Sets the number of serving copies: new slots start (and the result waits until they are ready), or
     * the newest slots drain.
     *
     * @param n serving copies, at least 1
     * @return how it ended
     */
    public CompletableFuture<OperationResult> scale(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("scale needs at least 1 copy, not " + n);
        }
        return submit(new Scale(n, new CompletableFuture<>()));
    }

    // ---- Copy.Events: any thread, queued to the mailbox ----

    @Override
    public void ready(Copy copy) {
        post(() -> onReady(copy));
    }

    @Override
    public void exited(Copy copy, int status) {
        Instant now = now();
        post(() -> onEnded(copy, new Exited(now, copy.id(), copy.mode(), status), "exited status=" + status, status));
    }

    /**
     * When the report itself fails for want of heap (the error that ended the copy filled it), the crash
     * is handed to {@link OomSignals}' thread without allocating, which reports it once the heap has room:
     * a lost report would leave the slot to the watchdog.
     */
    @Override
    public void crashed(Copy copy, Throwable cause) {
        try {
            reportCrash(copy, cause);
        } catch (OutOfMemoryError full) {
            oomSignals.crashed(copy, cause);
        }
    }

    private void reportCrash(Copy copy, Throwable cause) {
        Instant now = now();
        String text;
        String trace;
        try {
            text = String.valueOf(cause);
            StringWriter writer = new StringWriter();
            cause.printStackTrace(new PrintWriter(writer));
            trace = writer.toString();
        } catch (OutOfMemoryError full) {
            // an OutOfMemoryError that ends a copy may leave no room for its stack trace: its class will do
            text = cause.getClass().getName();
            trace = text;
        }
        String cause0 = text;
        String trace0 = trace;
        post(() -> onEnded(copy, new Crashed(now, copy.id(), copy.mode(), cause0, trace0), "crashed: " + cause0, null));
    }

    /**
     * A copy's code caught an {@code OutOfMemoryError}: a serving copy gives its slot to a ready standby and
     * drains, as after a crash; without one it is replaced as by {@link #restart}, and when no replacement
     * can start beside it (the heap is still full) it ends as a crashed copy does. A standby is replaced as
     * by {@link #restart}; one still starting, draining or gone is left to its own end.
     */
    @Override
    public void outOfMemory(Copy copy, String thread, String error) {
        oomSignals.signal(copy, thread, error); // allocates nothing: the heap may still be full
    }

    /** On {@link OomSignals}' thread, once it can allocate. */
    private void onOutOfMemory(Copy copy, String thread, String error) {
        Instant now = now();
        post(() -> {
            CopyRecord record = copies.get(copy);
            if (stopping || record == null || record.incoming()
                    || (record.state() != WorkerState.READY && record.state() != WorkerState.STANDBY)) {
                return;
            }
            ForklessEvent.OomRestart event = new ForklessEvent.OomRestart(now, copy.id(), copy.mode(), thread,
                    String.valueOf(error));
            String reason = "out of memory: " + error;
            if (record.state() == WorkerState.READY && readyStandby().isPresent()) {
                // the heap may be full: a replacement started now may not get ready while this copy keeps
                // what it keeps, so the warm standby takes the slot and this copy drains, as after a crash
                onEnded(copy, event, reason, null);
                return;
            }
            emit(event);
            restart(copy.id()).thenAccept(result -> {
                if (!result.ok()) {
                    // no replacement could start beside it (the heap is still full): the copy goes first
                    post(() -> {
                        CopyRecord now0 = copies.get(copy);
                        if (!stopping && now0 != null && !now0.incoming() && now0.state() == WorkerState.READY) {
                            onEnded(copy, new Crashed(now(), copy.id(), copy.mode(), reason
                                    + "; no replacement could start beside it: " + result.reason(), reason), reason, null);
                        }
                    });
                }
            });
        });
    }

    @Override
    public void bindFailed(Copy copy, IOException cause) {
        post(() -> {
            if (!everReady) {
                fail(cause.getMessage(), 2);
            }
        });
    }

    // ---- operations: queued (OperationQueue), one at a time, each a chain of mailbox steps ----

    private CompletableFuture<OperationResult> submit(Operation operation) {
        if (!post(() -> operations.add(operation))) {
            operation.reply().complete(OperationResult.failed(0, "the runtime is stopping"));
        }
        return operation.reply();
    }

    private CompletableFuture<OperationResult> rollingReload(String trigger) {
        Instant start = now();
        emit(new ForklessEvent.Reloading(start, trigger));
        List<String> names = ordered().stream().filter(slot -> !slot.done()).map(Slot::name).toList();
        CompletableFuture<OperationResult> result = new CompletableFuture<>();
        reloadFrom(names, 0, start, result);
        return result;
    }

    private void reloadFrom(List<String> names, int replaced, Instant start, CompletableFuture<OperationResult> result) {
        if (replaced == names.size()) {
            emit(new ForklessEvent.Reloaded(now(), true, replaced, "", Duration.between(start, now())));
            result.complete(OperationResult.done(replaced));
            return;
        }
        replaceSlot(names.get(replaced)).thenAccept(failure -> {
            if (failure != null) {
                emit(new ForklessEvent.Reloaded(now(), false, replaced, failure, Duration.between(start, now())));
                result.complete(OperationResult.failed(replaced, failure));
            } else {
                reloadFrom(names, replaced + 1, start, result);
            }
        });
    }

    private CompletableFuture<OperationResult> restartCopy(String workerId) {
        String name = ordered().stream().map(Slot::name)
                .filter(slot -> holder(slot).map(r -> r.copy().id().equals(workerId)).orElse(false))
                .findFirst().orElse(null);
        if (name == null) {
            return CompletableFuture.completedFuture(OperationResult.failed(0, "no copy with id " + workerId));
        }
        return replaceSlot(name).thenApply(failure -> failure == null ? OperationResult.done(1)
                : OperationResult.failed(0, failure));
    }

    private CompletableFuture<OperationResult> scaleTo(int n) {
        List<Slot> serving = serving();
        List<CompletableFuture<Void>> starting = new ArrayList<>();
        List<Copy> added = new ArrayList<>();
        for (String name : Slot.toAdd(serving, n)) {
            launch(put(Slot.serving(name, ++lastGeneration)));
            holder(name).ifPresent(r -> {
                starting.add(r.ready());
                added.add(r.copy());
            });
        }
        for (Slot slot : Slot.toRetire(serving, n)) {
            retire(slot);
            slots.remove(slot.name());
        }
        emit(new ForklessEvent.Scaled(now(), serving.size(), n));
        Duration limit = readyLimit();
        CompletableFuture<OperationResult> result =
                awaitReady(starting, limit.compareTo(SCALE_READY_MIN) > 0 ? limit : SCALE_READY_MIN);
        if (!result.isDone()) {
            Runnable slow = scheduling.schedule(readyTimeout, () -> added.forEach(copy -> {
                CopyRecord record = copies.get(copy);
                if (record != null && record.state() == WorkerState.STARTING) {
                    emit(new ForklessEvent.SlowStart(now(), copy.id(), copy.mode(), readyTimeout, limit));
                }
            }));
            result.whenComplete((r, e) -> slow.run());
        }
        return result;
    }

    /** @return completes on the mailbox once every one of {@code starting} is ready, failed, or out of time */
    private CompletableFuture<OperationResult> awaitReady(List<CompletableFuture<Void>> starting, Duration timeout) {
        CompletableFuture<OperationResult> result = new CompletableFuture<>();
        if (starting.isEmpty()) {
            result.complete(OperationResult.done(0));
            return result;
        }
        int[] ready = {0};
        int[] settled = {0};
        String[] failure = {null};
        for (CompletableFuture<Void> copy : starting) {
            copy.whenComplete((ok, error) -> post(() -> {
                if (error == null) {
                    ready[0]++;
                } else {
                    failure[0] = "a new copy did not become ready: " + error.getMessage();
                }
                if (++settled[0] == starting.size()) {
                    result.complete(failure[0] == null ? OperationResult.done(ready[0])
                            : OperationResult.failed(ready[0], failure[0]));
                }
            }));
        }
        Runnable cancel = scheduling.schedule(timeout, () -> result.complete(OperationResult.failed(ready[0],
                "a new copy did not become ready within " + timeout.toMillis() + " ms")));
        result.whenComplete((r, e) -> cancel.run());
        return result;
    }

    /**
     * Replaces the copy of one slot: start a new one beside it, and once that one is ready, put it in the
     * slot and drain the old one.
     *
     * @return completes on the mailbox with {@code null} when done (or nothing to do), else with why it
     *         failed (the old copy still serves)
     */
    private CompletableFuture<String> replaceSlot(String name) {
        Slot slot = slots.get(name);
        if (stopping || slot == null || slot.done()) {
            return CompletableFuture.completedFuture(null);
        }
        CopyRecord fresh;
        try {
            fresh = createCopy(slot, true);
        } catch (BadAppException e) {
            return CompletableFuture.completedFuture("cannot start a new copy: " + e.getMessage());
        }
        Copy copy = fresh.copy();
        CompletableFuture<String> outcome = new CompletableFuture<>();
        fresh.ready().whenComplete((ok, error) -> post(() -> settleReplacement(name, copy, outcome,
                error == null ? null : "copy " + copy.id() + " failed to start: " + error.getMessage())));
        Runnable[] timer = {null};
        timer[0] = scheduling.schedule(readyTimeout, () -> {
            if (!outcome.isDone()) { // still starting: it has not ended, so it is slow, not failed
                Duration limit = readyLimit();
                emit(new ForklessEvent.SlowStart(now(), copy.id(), copy.mode(), readyTimeout, limit));
                timer[0] = scheduling.schedule(limit.minus(readyTimeout), () -> settleReplacement(name, copy,
                        outcome, "copy " + copy.id() + " was not ready within " + limit.toMillis() + " ms"));
            }
        });
        outcome.whenComplete((failure, e) -> timer[0].run()); // the timer lets go of the copy
        return outcome;
    }

    /**
     * The rule for a copy that is slow to start: at the ready timeout a copy that has not ended (its
     * {@code main} did not throw, it did not exit, it could start) is only slow; it is said once
     * ({@code event=slow-start}) and waited for up to {@link #READY_LIMIT_FACTOR} ready timeouts in all,
     * the old copies serving meanwhile. A copy that ends aborts at once, whenever it ends.
     *
     * @return how long a new copy gets in all before the operation that started it gives up
     */
    private Duration readyLimit() {
        return readyTimeout.multipliedBy(READY_LIMIT_FACTOR);
    }

    private void settleReplacement(String name, Copy fresh, CompletableFuture<String> outcome, String failure) {
        if (outcome.isDone()) {
            return;
        }
        CopyRecord record = copies.get(fresh);
        if (failure != null) {
            if (record != null && record.incoming()) {
                drain(fresh);
            }
        } else if (record != null && record.incoming()) { // else it ended meanwhile
            Slot slot = slots.get(name);
            if (slot == null || stopping) {
                drain(fresh);
            } else {
                Optional<CopyRecord> old = holder(name);
                copies.put(fresh, record.placed(name, slot.standby() ? WorkerState.STANDBY : WorkerState.READY, now()));
                put(slot.replaced(old.isPresent(), ++lastGeneration));
                old.ifPresent(r -> drain(r.copy()));
                emit(new Promoted(now(), fresh.id(), fresh.mode(), name));
            }
        }
        outcome.complete(failure);
    }

    // ---- the state machine: on the mailbox ----

    /**
     * Queues a step on the mailbox; the safety nets run after it, also when it failed half way (it is tried
     * again when it failed for want of heap, else it is lost: see {@link Scheduling}).
     */
    private boolean post(Runnable task) {
        return scheduling.post(() -> {
            try {
                task.run();
            } finally {
                fillEmptySlots();
                watchDrains();
            }
        });
    }

    /**
     * The safety net under the decisions above: a slot that is not done, has no copy and no restart
     * pending (or one {@link #RESTART_LOST_AFTER} past its time) gets one now (a serving slot from a ready
     * standby when there is one). The rules never leave a slot so, but a step lost half way does: a mailbox task that failed for want of heap (a copy filled
     * the shared heap) is tried again (see {@link Scheduling}) and finds its first effects done; a CI run
     * saw the full copy drain while its slot stayed empty, the standby never promoted. Run after each
     * mailbox task: a few slots, a few copies.
     */
    private void fillEmptySlots() {
        if (stopping || !everReady) {
            return;
        }
        for (Slot slot : slots.values().toArray(Slot[]::new)) {
            Instant due = restartsPending.get(slot.name());
            if (slot.done() || (due != null && now().isBefore(due.plus(RESTART_LOST_AFTER)))
                    || holder(slot.name()).isPresent()) {
                continue;
            }
            restartsPending.remove(slot.name()); // overdue: its timer's step was lost
            Optional<CopyRecord> standby = slot.standby() ? Optional.empty() : readyStandby();
            System.getLogger("forkless").log(System.Logger.Level.WARNING, "slot " + slot.name()
                    + " had no copy (a step was lost, the heap full?): " + (standby.isPresent()
                    ? "its standby takes it" : "starting one"));
            if (standby.isPresent()) {
                promote(standby.get(), slot);
            } else {
                launch(slot);
            }
        }
    }

    private Instant now() {
        return scheduling.clock().instant();
    }

    private void emit(ForklessEvent event) {
        try {
            listener.accept(event);
        } catch (RuntimeException e) {
            System.getLogger("forkless").log(System.Logger.Level.WARNING, "event listener failed", e);
        }
    }

    private Slot put(Slot slot) {
        slots.put(slot.name(), slot);
        return slot;
    }

    private List<Slot> serving() {
        return slots.values().stream().filter(slot -> !slot.standby()).toList();
    }

    /** @return every slot: the serving ones, then the standbys */
    private List<Slot> ordered() {
        List<Slot> all = new ArrayList<>(serving());
        slots.values().stream().filter(Slot::standby).forEach(all::add);
        return all;
    }

    /** @return the copy that holds the slot (starting, ready or standby), if any */
    private Optional<CopyRecord> holder(String slot) {
        return copies.values().stream().filter(r -> r.holds(slot)).findFirst();
    }

    /**
     * Creates a copy for {@code slot} and starts it off the mailbox: the one way a copy comes to be.
     *
     * @param incoming a replacement that waits beside the slot's copy until it is ready, or the slot's
     *                 own copy at once
     * @throws BadAppException when the app cannot even be loaded
     */
    private CopyRecord createCopy(Slot slot, boolean incoming) {
        java.util.function.IntSupplier ids = sharedIds;
        String id = String.valueOf(ids == null ? ++lastId : ids.getAsInt());
        Copy copy = factory.create(id, slot.instance(), !slot.standby(), this);
        CopyRecord record = CopyRecord.starting(copy, slot.name(), incoming, now());
        copies.put(copy, record);
        emit(new Started(now(), id, copy.mode(), slot.name(), slot.standby()));
        scheduling.work(() -> {
            try {
                copy.start();
            } catch (BadAppException e) {
                copy.unload(Duration.ZERO);
                post(() -> onStartFailed(copy, e.getMessage()));
            }
        });
        return record;
    }

    /** Gives {@code slot} a new copy of its own, unless the runtime stops or the slot errored. */
    private void launch(Slot slot) {
        if (stopping || slot.done()) {
            return;
        }
        try {
            createCopy(slot, false);
        } catch (BadAppException e) {
            failSlot(slot, e.getMessage());
        }
    }

    /** An app that cannot start at all (a {@link BadAppException}): it was unloaded. */
    private void onStartFailed(Copy copy, String message) {
        CopyRecord record = copies.get(copy);
        if (record == null) {
            return;
        }
        record.ready().completeExceptionally(new ForklessException(message, 2));
        if (record.state() == WorkerState.DRAINING) {
            return; // its drain ends as any other
        }
        copies.remove(copy);
        if (!record.incoming()) { // an incoming copy's operation learns it through its ready future
            failSlot(slots.get(record.slot()), message);
        }
    }

    /** A copy could not even start: a bad app is fatal before anything served, a failed restart after. */
    private void failSlot(Slot slot, String message) {
        if (!everReady) {
            fail(message, 2);
        } else if (slot != null) {
            afterEnd(slot, Duration.ZERO, message, null);
        }
    }

    /** The watchdog: a serving copy that stopped making progress is replaced and drained. */
    private void watchHangs(Duration period) {
        if (stopping) {
            return;
        }
        for (Slot slot : serving()) {
            holder(slot.name()).filter(r -> r.state() == WorkerState.READY).ifPresent(r -> {
                Copy copy = r.copy();
                String reason = copy.hung(hangTimeout);
                if (reason != null) {
                    onEnded(copy, new ForklessEvent.Hung(now(), copy.id(), copy.mode(), reason), "hung: " + reason, null);
                }
            });
        }
        scheduling.schedule(period, () -> watchHangs(period));
    }

    private void onReady(Copy copy) {
        CopyRecord record = copies.get(copy);
        if (record == null || record.state() == WorkerState.DRAINING || (stopping && !record.incoming())) {
            return;
        }
        Instant now = now();
        Slot slot = slots.get(record.slot());
        if (!record.incoming()) {
            boolean standby = slot != null && slot.standby();
            copies.put(copy, record.readyIn(standby ? WorkerState.STANDBY : WorkerState.READY,
                    standby ? record.activeSince() : now));
        }
        emit(new Ready(now, copy.id(), copy.mode(), Duration.between(record.startedAt(), now)));
        record.ready().complete(null);
        if (!everReady && serving().stream().allMatch(s -> holder(s.name())
                .map(r -> r.state() == WorkerState.READY).orElse(false))) {
            everReady = true;
            started.complete(null);
        }
    }

    /** A copy ended: {@code exitStatus} when it exited, null when it crashed, hung or could not start. */
    private void onEnded(Copy copy, ForklessEvent event, String reason, Integer exitStatus) {
        CopyRecord record = copies.get(copy);
        if (record == null) {
            return;
        }
        record.ready().completeExceptionally(new ForklessException(reason, 1));
        if (record.state() == WorkerState.DRAINING) {
            return; // the end of a copy being stopped changes nothing
        }
        emit(event);
        drain(copy);
        Slot slot = slots.get(record.slot());
        if (record.incoming() || slot == null) {
            return; // a replacement: its operation learns it through its ready future
        }
        if (stopping) {
            put(slot.withLastExit(reason));
            return;
        }
        Duration uptime = record.state() == WorkerState.READY && record.activeSince() != null
                ? Duration.between(record.activeSince(), now()) : Duration.ZERO;
        afterEnd(slot, uptime, reason, exitStatus);
    }

    /** The slot's copy ended after {@code uptime}: decide, then act. */
    private void afterEnd(Slot slot, Duration uptime, String reason, Integer exitStatus) {
        Slot ended = put(slot.ended(uptime, reason, exitStatus, policy));
        Optional<CopyRecord> standby = readyStandby();
        switch (ended.next(standby.isPresent())) {
            case GIVE_UP -> {
                emit(new Errored(now(), ended.name(), ended.unstable(), reason));
                failWhenNoSlotServes(reason);
            }
            case STAY_STOPPED -> failWhenNoSlotServes(reason);
            case PROMOTE_STANDBY -> promote(standby.orElseThrow(), ended);
            case RESTART_AFTER_BACKOFF -> scheduleRestart(ended);
        }
    }

    /**
     * Ends the runtime once no serving slot will run a copy again: exit 1 when one of them errored,
     * else 0 (every copy ended as the policy lets it: {@code --no-autorestart}, {@code --stop-exit-codes}).
     */
    private void failWhenNoSlotServes(String reason) {
        if (serving().stream().allMatch(Slot::done)) {
            boolean errored = serving().stream().anyMatch(Slot::errored);
            NoSlotServes told = noSlotServes;
            if (told != null && everReady) {
                told.noSlotServes((errored ? "every copy errored" : "every copy stopped") + "; last: " + reason,
                        errored ? 1 : 0);
                return;
            }
            fail((errored ? "every copy errored" : "every copy stopped") + "; last: " + reason, errored ? 1 : 0);
        }
    }

    private Optional<CopyRecord> readyStandby() {
        return slots.values().stream().filter(Slot::standby)
                .flatMap(s -> holder(s.name()).stream())
                .filter(r -> r.state() == WorkerState.STANDBY && factory.makesLike(r.copy()))
                .findFirst();
    }

    /** A ready standby takes over {@code slot} at once, and its own slot starts a new standby. */
    private void promote(CopyRecord standby, Slot slot) {
        Copy copy = standby.copy();
        copies.put(copy, standby.placed(slot.name(), WorkerState.READY, now()));
        copy.takeInstance(slot.instance().orElseThrow());
        copy.startAccepting();
        emit(new Promoted(now(), copy.id(), copy.mode(), slot.name()));
        launchAfter(STANDBY_AFTER_PROMOTION, slots.get(standby.slot()));
    }

    private void scheduleRestart(Slot slot) {
        Slot scheduled = put(slot.restartScheduled(++lastGeneration));
        Duration delay = scheduled.backoff(policy);
        emit(new Restarting(now(), scheduled.name(), scheduled.backoffAttempt(), delay));
        launchAfter(delay, scheduled);
    }

    /** Starts the slot's copy after {@code delay}, unless the slot changed meanwhile (retired, replaced). */
    private void launchAfter(Duration delay, Slot slot) {
        long generation = slot.generation();
        restartsPending.put(slot.name(), now().plus(delay));
        scheduling.schedule(delay, () -> {
            restartsPending.remove(slot.name());
            Slot now = slots.get(slot.name());
            // a slot the safety net filled meanwhile (this step came after it was taken for lost) has its copy
            if (now != null && now.generation() == generation && holder(now.name()).isEmpty()) {
                launch(now);
            }
        });
    }

    /** Stops whatever the slot runs or has scheduled: its copy drains, a pending restart goes stale. */
    private void retire(Slot slot) {
        put(slot.retired(++lastGeneration));
        holder(slot.name()).ifPresent(r -> drain(r.copy()));
    }

    /**
     * The copy accepts no more; once its connections end, or the drain timeout passes, it is unloaded. What
     * the copy does here (an isolate reaches into its app's server) may fail: the drain goes on, and the
     * deadline ends it, or the copy would stay draining for good, and the runtime could never stop.
     */
    private void drain(Copy copy) {
        CopyRecord record = copies.remove(copy); // and put back last: the draining in the order they began
        Instant now = now();
        copies.put(copy, record == null ? CopyRecord.starting(copy, "-", false, now).draining(now) : record.draining(now));
        int open = 0;
        try {
            copy.beginDrain();
            open = copy.openConnections();
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            System.getLogger("forkless").log(System.Logger.Level.WARNING, "beginning the drain of copy "
                    + copy.id() + " failed; it is unloaded at the drain timeout", e);
        }
        emit(new Draining(now, copy.id(), copy.mode(), open));
        awaitDrained(copy, now, now.plus(policy.drainTimeout()), false);
    }

    /**
     * Polls a draining copy until its connections ended or {@code deadline}, then unloads it off the mailbox.
     * Marks the copy as watched ({@link #drainsWatched}) until its unload reported back.
     *
     * @param warned whether a failure to count its connections was said already
     */
    private void awaitDrained(Copy copy, Instant since, Instant deadline, boolean warned) {
        drainsWatched.add(copy);
        Instant now = now();
        boolean open;
        boolean failed = false;
        try {
            // drainCounted first: once it is true, the count read after it is the child's own after the drain
            open = !copy.drainCounted() || copy.openConnections() > 0;
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            open = true; // unknown: the deadline ends the drain
            failed = true;
            if (!warned) {
                System.getLogger("forkless").log(System.Logger.Level.WARNING, "counting the connections of draining copy "
                        + copy.id() + " failed; it is unloaded at the drain timeout", e);
            }
        }
        if (open && now.isBefore(deadline)) {
            boolean said = warned || failed;
            scheduling.schedule(POLL, () -> awaitDrained(copy, since, deadline, said));
            return;
        }
        Duration took = Duration.between(since, now);
        scheduling.work(() -> {
            Isolate.UnloadReport unloaded;
            try {
                unloaded = copy.unload(policy.unloadGrace());
            } catch (OutOfMemoryError full) {
                throw full; // tried again (Scheduling): the unload is what frees the heap
            } catch (RuntimeException | Error e) {
                // the copy is gone either way; the runtime must still learn that its drain ended
                System.getLogger("forkless").log(System.Logger.Level.WARNING, "unloading copy " + copy.id() + " failed", e);
                unloaded = new Isolate.UnloadReport(0, List.of("unload failed: " + e));
            }
            Isolate.UnloadReport report = unloaded;
            post(() -> {
                copies.remove(copy);
                drainsWatched.remove(copy);
                emit(new Drained(now(), copy.id(), copy.mode(), took, report.forcedConnections()));
                emit(new Unloaded(now(), copy.id(), copy.mode(), report.leftoverThreads()));
                maybeTerminate();
            });
        });
    }

    /**
     * The safety net under {@link #drain}, as {@link #fillEmptySlots} is under the slots' decisions: a
     * draining copy whose drain nothing watches (a step that failed half way, for want of heap or
     * otherwise, between the copy's state and its drain's first poll) gets its poll, with the deadline its
     * drain began with. Without it the copy would never be unloaded, and a stop would wait for it for good.
     */
    private void watchDrains() {
        List<CopyRecord> lost = null;
        for (CopyRecord record : copies.values()) {
            if (record.state() == WorkerState.DRAINING && !drainsWatched.contains(record.copy())) {
                if (lost == null) {
                    lost = new ArrayList<>();
                }
                lost.add(record);
            }
        }
        if (lost == null) {
            return;
        }
        for (CopyRecord record : lost) {
            Instant since = record.drainSince() == null ? now() : record.drainSince();
            System.getLogger("forkless").log(System.Logger.Level.WARNING, "draining copy " + record.copy().id()
                    + " had no drain watch (a step was lost, the heap full?): it is unloaded once its connections end");
            awaitDrained(record.copy(), since, since.plus(policy.drainTimeout()), false);
        }
    }

    private void fail(String message, int exitCode) {
        if (!started.isDone()) {
            started.completeExceptionally(new ForklessException(message, exitCode));
        }
        beginStop(message, exitCode);
    }

    private void beginStop(String reason, int code) {
        if (stopping) {
            return;
        }
        stopping = true;
        exitCode = code;
        operations.stop();
        emit(new Stopping(now(), reason, code));
        for (CopyRecord record : List.copyOf(copies.values())) {
            if (record.incoming()) { // its operation gives up
                record.ready().completeExceptionally(new ForklessException("the runtime is stopping", code));
                drain(record.copy());
            }
        }
        for (Slot slot : ordered()) {
            retire(slot);
        }
        maybeTerminate();
    }

    private void maybeTerminate() {
        if (!stopping || terminated.isDone()
                || copies.values().stream().anyMatch(r -> r.state() == WorkerState.DRAINING)) {
            return;
        }
        operations.close();
        scheduling.shutdown();
        oomSignals.close();
        terminated.complete(exitCode);
    }

    private List<WorkerSnapshot> snapshot() {
        List<WorkerSnapshot> result = new ArrayList<>();
        Instant now = now();
        for (Slot slot : ordered()) {
            Optional<CopyRecord> holder = holder(slot.name());
            if (holder.isPresent()) {
                CopyRecord record = holder.get();
                Copy copy = record.copy();
                result.add(new WorkerSnapshot(copy.id(), slot.name(), Optional.of(copy.mode()), copy.pid(), record.state(),
                        Duration.between(record.startedAt(), now), slot.restarts(), copy.requests(),
                        copy.openConnections(), Optional.ofNullable(slot.lastExit())));
            } else if (slot.done()) {
                result.add(new WorkerSnapshot("-", slot.name(), Optional.empty(), 0,
                        slot.errored() ? WorkerState.ERRORED : WorkerState.STOPPED, Duration.ZERO,
                        slot.restarts(), 0, 0, Optional.ofNullable(slot.lastExit())));
            }
        }
        for (CopyRecord record : copies.values()) {
            if (record.state() == WorkerState.DRAINING) {
                Copy copy = record.copy();
                result.add(new WorkerSnapshot(copy.id(), "-", Optional.of(copy.mode()), copy.pid(), WorkerState.DRAINING,
                        Duration.between(record.startedAt(), now), 0, copy.requests(), copy.openConnections(),
                        Optional.empty()));
            }
        }
        return List.copyOf(result);
    }
}
