package dev.forkless.runtime;

import dev.forkless.isolate.BadAppException;
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

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Keeps N copies of the app serving, plus warm standbys, as an Erlang/OTP one-for-one supervisor does.
 *
 * <p>All of its state is confined to one thread, its mailbox: copies report on any thread and the
 * reports are queued there, so decisions never race. Slow work (starting a copy, draining one) runs on
 * virtual threads and reports back through the mailbox.
 *
 * <p>When a copy ends, its replacement comes first: a ready standby takes over its slot at once, or a
 * new copy is started after the slot's back-off ({@link RestartPolicy}). Then the ended copy drains:
 * it accepts no more, its responses carry {@code Connection: close}, and after its open connections
 * end (or the drain timeout) it is unloaded.
 */
final class Supervisor implements Copy.Events {

    private static final Duration POLL = Duration.ofMillis(10);

    /**
     * The runtime's own threads are platform threads, not virtual ones: an isolate's virtual thread that
     * spins in JDK code (where loop checks cannot reach) pins a carrier of the JVM-wide virtual-thread
     * scheduler, whose parallelism is the number of cores; the runtime must still start, drain and
     * replace copies then. (Seen: with one such spinner under load on 2 cores, a reload stalled for
     * over 40 s while its steps ran on virtual threads.)
     */
    static Thread.Builder.OfPlatform runtimeThreads() {
        return Thread.ofPlatform().daemon(true);
    }


    /** Creates copies: (id, accepting from the start) -> copy. */
    interface CopyFactory {
        Copy create(String id, boolean accepting, Copy.Events events);
    }

    private final CopyFactory factory;
    private final RestartPolicy policy;
    private final Consumer<ForklessEvent> listener;
    private final ExecutorService mailbox;
    private final ScheduledExecutorService timer;
    /** Slow work (starting, draining): platform threads, see {@link #runtimeThreads()}. */
    private final ExecutorService blocking = Executors.newThreadPerTaskExecutor(runtimeThreads().name("forkless-work-", 0).factory());
    private final AtomicInteger ids = new AtomicInteger();
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Integer> terminated = new CompletableFuture<>();
    /** One operation (reload, restart, scale) at a time; held by the virtual thread running it. */
    private final java.util.concurrent.Semaphore operations = new java.util.concurrent.Semaphore(1, true);
    /** A reload asked for that waits for its turn: later requests join it. */
    private final java.util.concurrent.atomic.AtomicReference<CompletableFuture<OperationResult>> queuedReload =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final Duration readyTimeout;
    /** A serving copy with no progress for this long is hung; zero: no watchdog. */
    private final Duration hangTimeout;

    // ---- confined to the mailbox thread ----
    private final List<Slot> slots = new ArrayList<>();
    private final List<Slot> standbys = new ArrayList<>();
    private final Map<Copy, Slot> slotOf = new IdentityHashMap<>();
    private final Map<Copy, CopyInfo> info = new IdentityHashMap<>();
    private final List<Copy> draining = new ArrayList<>();
    /** Copies started by a reload or restart, not yet in their slot: copy -> slot name. */
    private final Map<Copy, String> incoming = new IdentityHashMap<>();
    private boolean stopping;
    private boolean everReady;

    Supervisor(CopyFactory factory, RestartPolicy policy, Duration readyTimeout, Duration hangTimeout,
               Consumer<ForklessEvent> listener) {
        this.factory = factory;
        this.readyTimeout = readyTimeout;
        this.hangTimeout = hangTimeout;
        this.policy = policy;
        this.listener = listener;
        this.mailbox = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("forkless-supervisor")
                .daemon(true).unstarted(r));
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("forkless-timer")
                .daemon(true).unstarted(r));
    }

    // ---- the API: any thread ----

    /**
     * Starts {@code copies} serving copies and {@code standby} standbys, and waits until every serving
     * copy is ready.
     *
     * @throws ForklessException when the app cannot start
     */
    void start(int copies, int standby) {
        if (!hangTimeout.isZero()) {
            long period = Math.max(100, Math.min(1000, hangTimeout.toMillis() / 4));
            timer.scheduleAtFixedRate(() -> post(this::checkHangs), period, period, TimeUnit.MILLISECONDS);
        }
        post(() -> {
            for (int i = 1; i <= copies; i++) {
                Slot slot = new Slot(String.valueOf(i), false);
                slots.add(slot);
                launch(slot);
            }
            for (int i = 1; i <= standby; i++) {
                Slot slot = new Slot("s" + i, true);
                standbys.add(slot);
                launch(slot);
            }
        });
        try {
            CompletableFuture.anyOf(started, terminated).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ForklessException("interrupted while starting", 1);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof ForklessException f ? f : new ForklessException(e.getCause().toString(), 1);
        }
        if (!started.isDone()) {
            throw new ForklessException("the runtime stopped while starting", terminated.join());
        }
    }

    /** Stops every copy, draining them; completes {@link #terminated()} with {@code exitCode}. */
    CompletableFuture<Integer> stop(String reason, int exitCode) {
        post(() -> beginStop(reason, exitCode));
        return terminated;
    }

    /** @return completes with the runtime's exit code once every copy is stopped */
    CompletableFuture<Integer> terminated() {
        return terminated;
    }

    /** @return a snapshot of every copy */
    List<WorkerSnapshot> workers() {
        if (terminated.isDone()) {
            return List.of(); // the mailbox is gone: nothing would answer
        }
        CompletableFuture<List<WorkerSnapshot>> result = new CompletableFuture<>();
        post(() -> result.complete(snapshot()));
        try {
            return result.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        } catch (ExecutionException | TimeoutException e) {
            return List.of();
        }
    }

    /**
     * Replaces every copy, one slot at a time: a new copy (from the app as it is now on disk) starts, and
     * only once it is ready does the old one drain. A new copy that is not ready within the ready timeout,
     * or fails, aborts the reload: the old copies keep serving.
     *
     * @param trigger what asked for it, for the log
     * @return how it ended
     */
    CompletableFuture<OperationResult> reload(String trigger) {
        // Reloads that pile up coalesce (as PM2's and nginx's): a reload asked for while another waits to
        // run joins the waiting one, which starts from the app as it is on disk then. 20 SIGHUPs during a
        // reload make one more reload, not 20.
        while (true) {
            CompletableFuture<OperationResult> queued = queuedReload.get();
            if (queued != null) {
                return queued;
            }
            CompletableFuture<OperationResult> mine = new CompletableFuture<>();
            if (queuedReload.compareAndSet(null, mine)) {
                operation(() -> queuedReload.compareAndSet(mine, null), () -> rollingReload(trigger))
                        .whenComplete((result, error) -> mine.complete(result != null ? result
                                : OperationResult.failed(0, String.valueOf(error))));
                return mine;
            }
        }
    }

    private OperationResult rollingReload(String trigger) {
        {
            Instant start = Instant.now();
            post(() -> emit(new ForklessEvent.Reloading(start, trigger)));
            List<String> names = call(() -> concat(slots, standbys).stream()
                    .filter(sl -> !sl.errored).map(sl -> sl.name).toList());
            int replaced = 0;
            for (String name : names) {
                String failure = replaceSlot(name);
                if (failure != null) {
                    OperationResult result = OperationResult.failed(replaced, failure);
                    post(() -> emit(new ForklessEvent.Reloaded(Instant.now(), false, result.replaced(), failure,
                            Duration.between(start, Instant.now()))));
                    return result;
                }
                replaced++;
            }
            int done = replaced;
            post(() -> emit(new ForklessEvent.Reloaded(Instant.now(), true, done, "", Duration.between(start, Instant.now()))));
            return OperationResult.done(replaced);
        }
    }

    /**
     * Replaces one copy without downtime, as {@link #reload} does for every copy.
     *
     * @param workerId the copy's id
     * @return how it ended; not ok when no copy has that id
     */
    CompletableFuture<OperationResult> restart(String workerId) {
        return operation(() -> {
            String name = call(() -> concat(slots, standbys).stream()
                    .filter(sl -> sl.copy != null && sl.copy.id().equals(workerId))
                    .map(sl -> sl.name).findFirst().orElse(null));
            if (name == null) {
                return OperationResult.failed(0, "no copy with id " + workerId);
            }
            String failure = replaceSlot(name);
            return failure == null ? OperationResult.done(1) : OperationResult.failed(0, failure);
        });
    }

    /**
     * Sets the number of serving copies: new slots start (and the result waits until they are ready), or
     * the newest slots drain.
     *
     * @param n serving copies, at least 1
     * @return how it ended
     */
    CompletableFuture<OperationResult> scale(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("scale needs at least 1 copy, not " + n);
        }
        return operation(() -> {
            List<CompletableFuture<Void>> starting = call(() -> {
                int from = slots.size();
                List<CompletableFuture<Void>> ready = new ArrayList<>();
                int next = slots.stream().mapToInt(sl -> Integer.parseInt(sl.name)).max().orElse(0);
                while (slots.size() < n) {
                    Slot slot = new Slot(String.valueOf(++next), false);
                    slots.add(slot);
                    launch(slot);
                    if (slot.copy != null) {
                        ready.add(info.get(slot.copy).ready);
                    }
                }
                while (slots.size() > n) {
                    Slot slot = slots.removeLast();
                    if (slot.pendingRestart != null) {
                        slot.pendingRestart.cancel(false);
                    }
                    Copy copy = slot.copy;
                    if (copy != null) {
                        slot.copy = null;
                        slotOf.remove(copy);
                        drain(copy);
                    }
                }
                emit(new ForklessEvent.Scaled(Instant.now(), from, n));
                return ready;
            });
            int ready = 0;
            String failure = null;
            for (CompletableFuture<Void> f : starting) {
                try {
                    f.get(Math.max(readyTimeout.toMillis(), 30_000), TimeUnit.MILLISECONDS);
                    ready++;
                } catch (ExecutionException | TimeoutException e) {
                    failure = "a new copy did not become ready: " + (e.getCause() == null ? e : e.getCause().getMessage());
                }
            }
            return failure == null ? OperationResult.done(ready) : OperationResult.failed(ready, failure);
        });
    }

    private CompletableFuture<OperationResult> operation(java.util.concurrent.Callable<OperationResult> work) {
        return operation(() -> { }, work);
    }

    /** Runs {@code work} once no other operation runs; {@code onStart} first, once it is its turn. */
    private CompletableFuture<OperationResult> operation(Runnable onStart, java.util.concurrent.Callable<OperationResult> work) {
        CompletableFuture<OperationResult> result = new CompletableFuture<>();
        runtimeThreads().name("forkless-operation").start(() -> {
            try {
                operations.acquire();
                onStart.run();
                try {
                    result.complete(stopping() ? OperationResult.failed(0, "the runtime is stopping") : work.call());
                } finally {
                    operations.release();
                }
            } catch (Exception e) {
                result.complete(OperationResult.failed(0, String.valueOf(e.getMessage())));
            }
        });
        return result;
    }

    private boolean stopping() {
        return call(() -> stopping);
    }

    /** Runs on the mailbox and waits for the answer: for operations on virtual threads only. */
    private <T> T call(java.util.function.Supplier<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        post(() -> result.complete(task.get()));
        try {
            return result.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the supervisor did not answer", e);
        }
    }

    /**
     * Replaces the copy of one slot: start a new one, wait until it is ready, then drain the old one.
     *
     * @return {@code null} when done (or nothing to do), else why it failed (the old copy still serves)
     */
    private String replaceSlot(String name) {
        Replacement begun = call(() -> beginReplacement(name));
        if (begun.failure() != null) {
            return begun.failure();
        }
        Copy fresh = begun.copy();
        if (fresh == null) {
            return null;
        }
        CompletableFuture<Void> ready = call(() -> info.get(fresh).ready);
        String failure = null;
        try {
            ready.get(readyTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            failure = "copy " + fresh.id() + " was not ready within " + readyTimeout.toMillis() + " ms";
        } catch (ExecutionException e) {
            failure = "copy " + fresh.id() + " failed to start: " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        }
        String reason = failure;
        call(() -> {
            if (reason != null) {
                if (incoming.remove(fresh) != null) {
                    drain(fresh);
                }
            } else {
                completeReplacement(name, fresh);
            }
            return null;
        });
        return reason;
    }

    /** A replacement copy that started, none (nothing to replace), or why none could start. */
    private record Replacement(Copy copy, String failure) {
    }

    private Replacement beginReplacement(String name) {
        if (stopping) {
            return new Replacement(null, null);
        }
        Slot slot = concat(slots, standbys).stream().filter(sl -> sl.name.equals(name)).findFirst().orElse(null);
        if (slot == null || slot.errored) {
            return new Replacement(null, null);
        }
        String id = String.valueOf(ids.incrementAndGet());
        Copy copy;
        try {
            copy = factory.create(id, !slot.standby, this);
        } catch (BadAppException e) {
            return new Replacement(null, "cannot start a new copy: " + e.getMessage());
        }
        incoming.put(copy, name);
        info.put(copy, new CopyInfo(Instant.now()));
        emit(new Started(Instant.now(), id, copy.mode(), slot.name, slot.standby));
        startInBackground(copy, message -> incoming.remove(copy));
        return new Replacement(copy, null);
    }

    private void completeReplacement(String name, Copy fresh) {
        if (incoming.remove(fresh) == null) {
            return; // it ended meanwhile
        }
        Slot slot = concat(slots, standbys).stream().filter(sl -> sl.name.equals(name)).findFirst().orElse(null);
        if (slot == null || stopping) {
            drain(fresh);
            return;
        }
        if (slot.pendingRestart != null) {
            slot.pendingRestart.cancel(false);
            slot.pendingRestart = null;
        }
        Copy old = slot.copy;
        slot.copy = fresh;
        slotOf.put(fresh, slot);
        slot.state = slot.standby ? WorkerState.STANDBY : WorkerState.READY;
        slot.activeSince = Instant.now();
        slot.unstable = 0;
        if (old != null) {
            slot.restarts++; // a replacement on request counts as a restart of the slot, as in PM2
            slotOf.remove(old);
            drain(old);
        }
        emit(new Promoted(Instant.now(), fresh.id(), fresh.mode(), slot.name));
    }

    // ---- Copy.Events: any thread, queued to the mailbox ----

    @Override
    public void ready(Copy copy) {
        post(() -> onReady(copy));
    }

    @Override
    public void exited(Copy copy, int status) {
        Instant now = Instant.now();
        post(() -> onEnded(copy, new Exited(now, copy.id(), copy.mode(), status), "exited status=" + status));
    }

    @Override
    public void crashed(Copy copy, Throwable cause) {
        Instant now = Instant.now();
        String text = String.valueOf(cause);
        StringWriter trace = new StringWriter();
        cause.printStackTrace(new PrintWriter(trace));
        post(() -> onEnded(copy, new Crashed(now, copy.id(), copy.mode(), text, trace.toString()), "crashed: " + text));
    }

    @Override
    public void bindFailed(Copy copy, IOException cause) {
        post(() -> {
            if (!everReady) {
                fail(cause.getMessage(), 2);
            }
        });
    }

    // ---- the mailbox ----

    private void post(Runnable task) {
        try {
            mailbox.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    System.getLogger("forkless").log(System.Logger.Level.ERROR, "supervisor task failed", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            // the supervisor has terminated
        }
    }

    private void emit(ForklessEvent event) {
        try {
            listener.accept(event);
        } catch (RuntimeException e) {
            System.getLogger("forkless").log(System.Logger.Level.WARNING, "event listener failed", e);
        }
    }

    private void launch(Slot slot) {
        slot.pendingRestart = null;
        if (stopping || slot.errored) {
            return;
        }
        String id = String.valueOf(ids.incrementAndGet());
        Copy copy;
        try {
            copy = factory.create(id, !slot.standby, this);
        } catch (BadAppException e) {
            failSlot(slot, null, e.getMessage());
            return;
        }
        slot.copy = copy;
        slot.state = WorkerState.STARTING;
        slotOf.put(copy, slot);
        info.put(copy, new CopyInfo(Instant.now()));
        emit(new Started(Instant.now(), id, copy.mode(), slot.name, slot.standby));
        startInBackground(copy, message -> {
            if (slot.copy == copy) {
                slot.copy = null;
                slotOf.remove(copy);
                failSlot(slot, copy, message);
            }
        });
    }

    /**
     * Starts a copy on a virtual thread. An app that cannot start at all (a {@link BadAppException}) is
     * unloaded, its ready future fails, and {@code onBadApp} runs on the mailbox with the reason.
     */
    private void startInBackground(Copy copy, Consumer<String> onBadApp) {
        blocking.execute(() -> {
            try {
                copy.start();
            } catch (BadAppException e) {
                copy.unload(Duration.ZERO);
                post(() -> {
                    CopyInfo ci = info.remove(copy);
                    if (ci != null) {
                        ci.ready.completeExceptionally(new ForklessException(e.getMessage(), 2));
                    }
                    onBadApp.accept(e.getMessage());
                });
            }
        });
    }

    /** A copy could not even start: a bad app is fatal before anything served, a failed restart after. */
    private void failSlot(Slot slot, Copy copy, String message) {
        if (!everReady) {
            fail(message, 2);
            return;
        }
        slot.lastExit = message;
        recordFailure(slot, Duration.ZERO, message);
    }

    /** The watchdog: a serving copy that stopped making progress is replaced and drained. */
    private void checkHangs() {
        if (stopping) {
            return;
        }
        for (Slot slot : List.copyOf(slots)) {
            Copy copy = slot.copy;
            if (copy != null && slot.state == WorkerState.READY) {
                String reason = copy.hung(hangTimeout);
                if (reason != null) {
                    onEnded(copy, new ForklessEvent.Hung(Instant.now(), copy.id(), copy.mode(), reason), "hung: " + reason);
                }
            }
        }
    }

    private void onReady(Copy copy) {
        if (incoming.containsKey(copy)) {
            CopyInfo ci = info.get(copy);
            ci.readyAt = Instant.now();
            emit(new Ready(Instant.now(), copy.id(), copy.mode(), Duration.between(ci.startedAt, ci.readyAt)));
            ci.ready.complete(null);
            return;
        }
        Slot slot = slotOf.get(copy);
        if (slot == null || slot.copy != copy || stopping) {
            return;
        }
        CopyInfo copyInfo = info.get(copy);
        slot.state = slot.standby ? WorkerState.STANDBY : WorkerState.READY;
        if (!slot.standby) {
            slot.activeSince = Instant.now();
        }
        copyInfo.readyAt = Instant.now();
        copyInfo.ready.complete(null);
        emit(new Ready(Instant.now(), copy.id(), copy.mode(), Duration.between(copyInfo.startedAt, copyInfo.readyAt)));
        if (!everReady && slots.stream().allMatch(s -> s.state == WorkerState.READY)) {
            everReady = true;
            started.complete(null);
        }
    }

    private void onEnded(Copy copy, ForklessEvent event, String reason) {
        CopyInfo ended = info.get(copy);
        if (ended != null) {
            ended.ready.completeExceptionally(new ForklessException(reason, 1));
        }
        if (incoming.remove(copy) != null) {
            emit(event);
            drain(copy);
            return;
        }
        Slot slot = slotOf.remove(copy);
        if (slot == null || slot.copy != copy) {
            return; // already draining: the end of a copy being stopped changes nothing
        }
        emit(event);
        slot.copy = null;
        slot.lastExit = reason;
        Duration uptime = slot.state == WorkerState.READY && slot.activeSince != null
                ? Duration.between(slot.activeSince, Instant.now()) : Duration.ZERO;
        WorkerState was = slot.state;
        slot.state = WorkerState.STOPPED;
        drain(copy);
        if (stopping) {
            return;
        }
        if (!everReady && was == WorkerState.STARTING && !slot.standby) {
            // failing before it ever served: counts as an unstable start, below
            uptime = Duration.ZERO;
        }
        recordFailure(slot, uptime, reason);
    }

    /** The slot's copy ended after {@code uptime}: replace it, or give up on the slot. */
    private void recordFailure(Slot slot, Duration uptime, String reason) {
        if (uptime.compareTo(policy.resetAfter()) >= 0) {
            slot.backoffAttempt = 0;
        }
        if (uptime.compareTo(policy.minUptime()) < 0) {
            slot.unstable++;
        } else {
            slot.unstable = 0;
        }
        slot.restarts++;
        if (slot.unstable > policy.maxRestarts()) {
            slot.errored = true;
            slot.state = WorkerState.ERRORED;
            emit(new Errored(Instant.now(), slot.name, slot.unstable, reason));
            if (slots.stream().allMatch(s -> s.errored)) {
                fail("every copy errored; last: " + reason, 1);
            }
            return;
        }
        if (!slot.standby && promoteStandbyInto(slot)) {
            return;
        }
        scheduleRestart(slot);
    }

    private boolean promoteStandbyInto(Slot slot) {
        for (Slot standby : standbys) {
            if (standby.state == WorkerState.STANDBY && standby.copy != null) {
                Copy copy = standby.copy;
                standby.copy = null;
                standby.state = WorkerState.STOPPED;
                slot.copy = copy;
                slot.state = WorkerState.READY;
                slot.activeSince = Instant.now();
                slotOf.put(copy, slot);
                copy.startAccepting();
                emit(new Promoted(Instant.now(), copy.id(), copy.mode(), slot.name));
                launch(standby);
                return true;
            }
        }
        return false;
    }

    private void scheduleRestart(Slot slot) {
        slot.backoffAttempt++;
        long delay = policy.backoff().apply(slot.backoffAttempt);
        slot.state = WorkerState.STARTING;
        emit(new Restarting(Instant.now(), slot.name, slot.backoffAttempt, Duration.ofMillis(delay)));
        slot.pendingRestart = timer.schedule(() -> post(() -> launch(slot)), delay, TimeUnit.MILLISECONDS);
    }

    /** Drains a copy on a virtual thread, then unloads it. */
    private void drain(Copy copy) {
        draining.add(copy);
        info.computeIfAbsent(copy, c -> new CopyInfo(Instant.now()));
        copy.beginDrain();
        emit(new Draining(Instant.now(), copy.id(), copy.mode(), copy.openConnections()));
        blocking.execute(() -> {
            long start = System.nanoTime();
            long deadline = start + policy.drainTimeout().toNanos();
            try {
                while (copy.openConnections() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(POLL);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            dev.forkless.isolate.Isolate.UnloadReport unloaded;
            try {
                unloaded = copy.unload(policy.unloadGrace());
            } catch (RuntimeException | Error e) {
                // the copy is gone either way; the runtime must still learn that its drain ended
                System.getLogger("forkless").log(System.Logger.Level.WARNING, "unloading copy " + copy.id() + " failed", e);
                unloaded = new dev.forkless.isolate.Isolate.UnloadReport(0, List.of("unload failed: " + e));
            }
            var report = unloaded;
            post(() -> {
                draining.remove(copy);
                info.remove(copy);
                emit(new Drained(Instant.now(), copy.id(), copy.mode(), took, report.forcedConnections()));
                emit(new Unloaded(Instant.now(), copy.id(), copy.mode(), report.leftoverThreads()));
                maybeTerminate();
            });
        });
    }

    private void fail(String message, int exitCode) {
        if (!started.isDone()) {
            started.completeExceptionally(new ForklessException(message, exitCode));
        }
        beginStop(message, exitCode);
    }

    private int exitCode;

    private void beginStop(String reason, int code) {
        if (stopping) {
            return;
        }
        stopping = true;
        exitCode = code;
        emit(new Stopping(Instant.now(), reason, code));
        for (Copy copy : List.copyOf(incoming.keySet())) {
            incoming.remove(copy);
            drain(copy);
        }
        for (Slot slot : concat(slots, standbys)) {
            if (slot.pendingRestart != null) {
                slot.pendingRestart.cancel(false);
            }
            Copy copy = slot.copy;
            if (copy != null) {
                slot.copy = null;
                slotOf.remove(copy);
                slot.state = WorkerState.STOPPED;
                drain(copy);
            }
        }
        maybeTerminate();
    }

    private void maybeTerminate() {
        if (stopping && draining.isEmpty() && !terminated.isDone()) {
            timer.shutdownNow();
            blocking.shutdown();
            terminated.complete(exitCode);
            mailbox.shutdown();
        }
    }

    private List<WorkerSnapshot> snapshot() {
        List<WorkerSnapshot> result = new ArrayList<>();
        Instant now = Instant.now();
        for (Slot slot : concat(slots, standbys)) {
            Copy copy = slot.copy;
            if (copy != null) {
                CopyInfo ci = info.get(copy);
                result.add(new WorkerSnapshot(copy.id(), slot.name, copy.mode(), copy.pid(), slot.state,
                        Duration.between(ci.startedAt, now), slot.restarts, copy.requests(), copy.openConnections(),
                        Optional.ofNullable(slot.lastExit)));
            } else if (slot.errored) {
                result.add(new WorkerSnapshot("-", slot.name, "-", 0, WorkerState.ERRORED, Duration.ZERO,
                        slot.restarts, 0, 0, Optional.ofNullable(slot.lastExit)));
            }
        }
        for (Copy copy : draining) {
            CopyInfo ci = info.get(copy);
            result.add(new WorkerSnapshot(copy.id(), "-", copy.mode(), copy.pid(), WorkerState.DRAINING,
                    ci == null ? Duration.ZERO : Duration.between(ci.startedAt, now), 0, copy.requests(),
                    copy.openConnections(), Optional.empty()));
        }
        return List.copyOf(result);
    }

    private static List<Slot> concat(List<Slot> a, List<Slot> b) {
        List<Slot> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** A place for one copy: serving ({@code 1..n}) or standby ({@code s1..}); outlives its copies. */
    private static final class Slot {
        final String name;
        final boolean standby;
        Copy copy;
        WorkerState state = WorkerState.STARTING;
        Instant activeSince;
        int restarts;
        int unstable;
        int backoffAttempt;
        boolean errored;
        String lastExit;
        ScheduledFuture<?> pendingRestart;

        Slot(String name, boolean standby) {
            this.name = name;
            this.standby = standby;
        }
    }

    /** What the supervisor remembers of one copy. */
    private static final class CopyInfo {
        final Instant startedAt;
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        Instant readyAt;

        CopyInfo(Instant startedAt) {
            this.startedAt = startedAt;
        }
    }
}
