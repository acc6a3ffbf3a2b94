package dev.forkless.runtime;

import dev.forkless.runtime.isolatemode.IsolateCopy;
import dev.forkless.runtime.listen.Handover;
import dev.forkless.runtime.listen.SharedListeners;
import dev.forkless.runtime.log.ConsoleRouter;
import dev.forkless.runtime.log.LogSettings;
import dev.forkless.runtime.log.LogTail;
import dev.forkless.runtime.log.LogWriter;
import dev.forkless.runtime.meter.CopyMeter;
import dev.forkless.runtime.meter.MemoryGuard;
import dev.forkless.runtime.processmode.ProcessCopy;
import dev.forkless.runtime.state.Exchange;
import dev.forkless.runtime.state.SharedStore;
import dev.forkless.runtime.supervisor.Escalation;
import dev.forkless.runtime.supervisor.CronRestart;
import dev.forkless.runtime.supervisor.JarWatcher;
import dev.forkless.runtime.supervisor.Supervisor;
import dev.forkless.api.Message;
import dev.forkless.isolate.AppJar;
import dev.forkless.isolate.CallSiteRewriter;
import dev.forkless.isolate.UncaughtExceptionDispatcher;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The embedding entry point: runs N supervised copies of an app serving the same ports.
 *
 * <pre>{@code
 * try (Forkless forkless = Forkless.builder()
 *         .app(Path.of("app.jar"))
 *         .copies(2)
 *         .build()
 *         .start()) {
 *     forkless.awaitTermination();
 * }
 * }</pre>
 *
 * The CLI is built on this class. Besides running copies it carries messages between the embedding
 * program and the copies ({@link #send}, {@link #broadcast}, {@link #onMessage}; the app side is
 * {@code dev.forkless.api.Messages}) and holds the shared state they all read ({@link #sharedState()};
 * the app side is {@code dev.forkless.api.SharedState}). docs/embedding.md has a complete example.
 * Every count and duration the builder takes is checked against its {@link Limit}: a value out of range
 * is an {@link IllegalArgumentException} naming the range.
 */
public final class Forkless implements AutoCloseable {

    /**
     * The settings copies are made with now, the app's arguments and the settings outside the core: swapped
     * by a reload with new settings ({@link #reload(String, RuntimeSettings)}).
     */
    private final java.util.concurrent.atomic.AtomicReference<RuntimeSettings> current;
    /** The app: the jar as the builder opened it; a reload opens it again. */
    private final AppJar app;
    private final List<String> args;
    private final boolean appFromJar;
    private final SharedListeners listeners;
    /** Makes the app's copies; every supervisor of the app uses it. */
    private final Supervisor.CopyFactory copyFactory;
    /**
     * The supervisor of the app's copies. An app of several that was stopped, or whose copies all errored,
     * gets a new one when it starts again ({@link #startAgain}); replaced under this object's lock.
     */
    private volatile Supervisor supervisor;
    /**
     * With a group: whether no copy of the app serves or will (it was stopped, or no serving slot runs a
     * copy) and no start of it is under way: {@link #startAgain} may start it. Guarded by this object.
     */
    private boolean idle;
    /** {@link #start()} returned: the app served once. */
    private volatile boolean startedOnce;
    /** Completes with the app's exit code once it has stopped for good (with a group: when the group ends). */
    private final CompletableFuture<Integer> ended = new CompletableFuture<>();
    /** Completes once the current supervisor terminated and what its run held (the meter) was let go. */
    private volatile CompletableFuture<Integer> runOver;
    private final List<Consumer<ForklessEvent>> eventListeners;
    /** The last {@link #RECENT_EVENTS} events, oldest first, for listeners added later; guarded by itself. */
    private final java.util.ArrayDeque<ForklessEvent> recentEvents = new java.util.ArrayDeque<>();
    private static final int RECENT_EVENTS = 200;
    /** Routes the JVM's console: installed by {@link #start()}, a JVM-wide change; null until then. */
    private volatile ConsoleRouter console;
    private final LogWriter logs;
    private final LogTail tail = new LogTail();
    /** new, started, stopped: a Forkless starts once. */
    private final java.util.concurrent.atomic.AtomicReference<Lifecycle> lifecycle =
            new java.util.concurrent.atomic.AtomicReference<>(Lifecycle.NEW);
    /** The one teardown (sockets, logs, the exchange) has run. */
    private final java.util.concurrent.atomic.AtomicBoolean tornDown = new java.util.concurrent.atomic.AtomicBoolean();
    private final Exchange exchange;
    private volatile JarWatcher watcher;
    private final java.util.concurrent.atomic.AtomicReference<Mode> mode;
    private final Escalation escalation;
    /** Meters each isolate's CPU and memory (isolate mode only); null until started. */
    private volatile CopyMeter meter;
    /** Whether a meter made for a run meters from its start: off once {@link #meter(boolean) meter(false)} asked. */
    private volatile boolean meterFromStart = true;
    private volatile MemoryGuard memoryGuard;
    /** Reloads on {@code cronRestart}'s schedule; null: none. */
    private volatile CronRestart cron;
    private final Consumer<ForklessEvent> publish;
    /** The app's name: the builder's {@link Builder#name}, else the jar's name without {@code .jar}. */
    private final String name;
    /** The other apps of the runtime, or null when this is its only app. */
    private final AppGroup group;
    /** With a group: the ids of this app's copies not yet unloaded, whose console lines its logs take. */
    private final java.util.Set<String> ownCopies = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** What the console gives the log files and the tail: every line, or with a group this app's own. */
    private final ConsoleRouter.Lines tailLines;
    private final ConsoleRouter.Lines logLines;

    private Forkless(Builder builder, SharedStore store) {
        ForklessConfig config = builder.config;
        this.name = builder.name != null ? builder.name : builder.app.name();
        this.group = builder.group;
        this.current = new java.util.concurrent.atomic.AtomicReference<>(
                new RuntimeSettings(config, builder.args, builder.fixedSettings));
        this.app = builder.app;
        this.appFromJar = builder.appFromJar;
        this.args = List.copyOf(builder.args);
        this.exchange = new Exchange(store, config.inboxCapacity(), config.overflow() == Overflow.BLOCK);
        builder.messageHandlers.forEach(exchange::onMessage);
        this.eventListeners = new CopyOnWriteArrayList<>(builder.listeners);
        this.logs = config.logs() == null ? null
                : LogWriter.toFiles(config.logs(), name, line -> runtimeErr().println(line));
        this.tailLines = group == null ? tail : ConsoleRouter.only(tail, ownCopies::contains);
        this.logLines = logs == null ? null : group == null ? logs : ConsoleRouter.only(logs, ownCopies::contains);
        Consumer<ForklessEvent> routeConsole = new Consumer<>() {
            private boolean startFailed;

            @Override
            public void accept(ForklessEvent event) {
                ConsoleRouter console = Forkless.this.console;
                if (console == null) {
                    return; // not started: no copy has written anything
                }
                switch (event) {
                    case ForklessEvent.Started e -> console.hold(e.workerId());
                    case ForklessEvent.Ready e -> console.release(e.workerId(), true);
                    // a slow copy shows what it prints while it starts (waiting for a database, say)
                    case ForklessEvent.SlowStart e -> console.release(e.workerId(), true);
                    case ForklessEvent.Crashed e -> console.release(e.workerId(), !startFailed);
                    case ForklessEvent.Exited e -> console.release(e.workerId(), !startFailed);
                    case ForklessEvent.Unloaded e -> console.forget(e.workerId(), !startFailed);
                    case ForklessEvent.Stopping e -> {
                        if (e.exitCode() == 2 && !startedOnce) { // not an app of several that fails to start again
                            startFailed = true;
                            console.discardAll();
                        }
                    }
                    default -> { }
                }
            }
        };
        Consumer<ForklessEvent> publish = event -> {
            if (logs != null) {
                logs.accept(event);
            }
            routeConsole.accept(event);
            if (event instanceof ForklessEvent.Unloaded u) {
                ownCopies.remove(u.workerId()); // after the console printed what was left of its lines
            }
            tail.accept(event);
            synchronized (recentEvents) {
                recentEvents.addLast(event);
                if (recentEvents.size() > RECENT_EVENTS) {
                    recentEvents.removeFirst();
                }
                eventListeners.forEach(l -> l.accept(event));
            }
        };
        this.publish = publish;
        this.listeners = new SharedListeners(address ->
                publish.accept(new ForklessEvent.Listening(java.time.Instant.now(), address)));
        CallSiteRewriter rewriter = new CallSiteRewriter(config.loopChecks());
        this.mode = new java.util.concurrent.atomic.AtomicReference<>(config.mode());
        this.copyFactory = new Supervisor.CopyFactory() {
            @Override
            public dev.forkless.runtime.supervisor.Copy create(String id, java.util.OptionalInt instance, boolean accepting,
                                                              dev.forkless.runtime.supervisor.Copy.Events events) {
                if (group != null) {
                    ownCopies.add(id);
                    ConsoleRouter c = console;
                    if (c != null) {
                        c.label(id, name); // before the copy writes (a child's pipes are routed when it is made)
                    }
                }
                RuntimeSettings now = current.get(); // a reload with new settings swaps it: new copies take the new one
                ForklessConfig settings = now.config();
                return mode.get() == Mode.PROCESS
                        ? new ProcessCopy(id, noteNativeTransports(currentApp()), now.args(), settings.childJvmArgs(),
                                accepting, settings.restartPolicy().drainTimeout(), listeners, console, exchange, events,
                                settings.environmentOf(id, instance, false), settings.warmUp())
                        : new IsolateCopy(id, noteNativeTransports(currentApp()), now.args(), accepting, listeners,
                                rewriter, exchange, events, settings.environmentOf(id, instance, true), settings.warmUp());
            }

            @Override
            public boolean makesLike(dev.forkless.runtime.supervisor.Copy copy) {
                return copy.mode() == mode.get(); // after --escalate, an isolate standby is not promoted
            }
        };
        this.supervisor = newSupervisor(config);
        this.runOver = supervisor.terminated();
        if (group != null) {
            eventListeners.add(event -> {
                if (event instanceof ForklessEvent.Ready) {
                    serving();
                }
            });
            group.join(this);
        }
        if (config.escalate() && config.mode() == Mode.ISOLATE) {
            this.escalation = new Escalation(mode, config.escalateWindow(), publish, () -> supervisor.reload("escalate"));
            eventListeners.add(escalation);
        } else {
            this.escalation = null;
        }
    }

    /** A supervisor for the app's copies, with {@code config}'s restart policy and timeouts. */
    private Supervisor newSupervisor(ForklessConfig config) {
        Supervisor made = new Supervisor(copyFactory, config.restartPolicy(), config.readyTimeout(),
                config.hangTimeout(), publish);
        if (group != null) {
            made.shareRuntime(group::nextId, (reason, code) -> noSlotServes(made, reason, code));
        }
        return made;
    }

    /** With a group: a copy of the app is ready, so the app serves. */
    private void serving() {
        synchronized (this) {
            idle = false;
        }
        group.serving(this);
    }

    /**
     * With a group, on {@code made}'s mailbox: none of its serving slots will run a copy again. No copy will
     * accept on the app's ports, so they close until a copy binds again: clients are refused at once.
     */
    private void noSlotServes(Supervisor made, String reason, int exitCode) {
        synchronized (this) {
            if (made != supervisor) {
                return;
            }
            idle = true;
        }
        listeners.closeUntilBound();
        group.noSlotServes(this, reason, exitCode);
    }

    /** The app as it is on disk now: a reload picks up a rebuilt jar and its new Class-Path. */
    private AppJar currentApp() {
        return appFromJar ? AppJar.open(app.jar()) : app;
    }

    /** @return the settings this runtime runs with: those it was built with, or a reload with new settings took */
    public ForklessConfig config() {
        return current.get().config();
    }

    /** @return the app's jar (with a class path: its first entry) */
    public Path appJar() {
        return app.jar();
    }

    /** @return the app's name: {@link Builder#name}, else its jar's file name without {@code .jar} */
    public String appName() {
        return name;
    }

    /** Ends this app with the runtime's other apps ({@link AppGroup}): every copy drains, then {@code exitCode}. */
    void end(String reason, int exitCode) {
        Supervisor last;
        synchronized (this) {
            if (lifecycle.getAndSet(Lifecycle.STOPPED) == Lifecycle.STOPPED) {
                return; // stopped for good before (a stop before it started)
            }
            last = supervisor;
        }
        if (escalation != null) {
            escalation.close();
        }
        JarWatcher w = watcher;
        if (w != null) {
            w.close();
        }
        // a stopped app's supervisor terminated before: its code (0) stands
        last.stop(reason, exitCode).whenComplete((code, e) -> {
            tearDown();
            ended.complete(code == null ? exitCode : code);
        });
    }

    /** @return the app's own arguments */
    public List<String> appArgs() {
        return args;
    }

    /** Where a {@link Forkless} is in its life. */
    private enum Lifecycle { NEW, STARTED, STOPPED }

    /** @return the console as it was before the runtime routed it: for the runtime's own lines */
    private java.io.PrintStream runtimeErr() {
        ConsoleRouter c = console;
        return c == null ? System.err : c.originalErr();
    }

    /** The app's class path was looked at for Netty native transports (said once in the log). */
    private final java.util.concurrent.atomic.AtomicBoolean nativeTransportsNoted =
            new java.util.concurrent.atomic.AtomicBoolean();

    /** Says once, when the app carries Netty native transports, that its copies run Netty on NIO. */
    private dev.forkless.isolate.AppJar noteNativeTransports(dev.forkless.isolate.AppJar app) {
        if (!nativeTransportsNoted.getAndSet(true)) {
            List<String> natives = dev.forkless.isolate.CopyDefaults.nativeTransports(app.classPath());
            if (!natives.isEmpty() && System.getProperty(dev.forkless.isolate.CopyDefaults.NETTY_NO_NATIVE) == null) {
                System.getLogger("forkless").log(System.Logger.Level.INFO, "the app carries Netty native transports ("
                        + String.join(", ", natives) + "); each copy runs with "
                        + dev.forkless.isolate.CopyDefaults.NETTY_NO_NATIVE + "=true, so Netty uses NIO on the"
                        + " shared socket");
            }
        }
        return app;
    }

    /** @return how copies run now: the configured mode, or process once {@code --escalate} escalated */
    public Mode mode() {
        return mode.get();
    }

    /**
     * Hands this runtime's listening sockets to a new runtime JVM it starts ({@link Handover}); once the new
     * one is ready, stop this one.
     *
     * @param commandFor   the new runtime's command line, given the Unix socket path it takes the sockets from
     * @param readyTimeout how long the new runtime gets to become ready
     * @return the new runtime's process, ready
     * @throws java.io.IOException when the new runtime could not take over (this one keeps serving)
     */
    public Process handOver(java.util.function.Function<java.nio.file.Path, List<String>> commandFor,
                            Duration readyTimeout) throws java.io.IOException {
        return Handover.give(listeners, commandFor, readyTimeout);
    }

    /**
     * Takes over the listening sockets another runtime hands over ({@link Handover}), before {@link #start()}.
     *
     * @param path the old runtime's Unix socket
     * @return the link to the old runtime, to say ready on once started
     * @throws java.io.IOException when the sockets cannot be taken
     */
    public Handover.Taken takeOver(String path) throws java.io.IOException {
        return Handover.take(listeners, path);
    }

    /**
     * Hands the listening sockets of every app of a runtime (one, or the apps of an {@link AppGroup}) to a
     * new runtime JVM it starts ({@link Handover}): {@code forkless upgrade}. Once the new one is ready,
     * stop these with {@link #handedOver}.
     *
     * @param apps         the runtime's apps
     * @param commandFor   the new runtime's command line, given the Unix socket path it takes the sockets from
     * @param readyTimeout how long the new runtime gets to become ready
     * @param steps        what happens at the handover's steps (the admin address, the token)
     * @return the new runtime's process, ready
     * @throws java.io.IOException when the new runtime could not take over (these keep serving)
     */
    public static Process handOver(java.util.Collection<Forkless> apps,
                                   java.util.function.Function<java.nio.file.Path, List<String>> commandFor,
                                   Duration readyTimeout, Handover.Steps steps) throws java.io.IOException {
        java.util.Map<String, SharedListeners> byApp = new java.util.LinkedHashMap<>();
        apps.forEach(f -> byApp.put(f.appName(), f.listeners));
        return Handover.give(byApp, commandFor, readyTimeout, steps);
    }

    /**
     * Takes over the listening sockets another runtime hands over, for every app of this runtime, before
     * they start: each socket goes to the app of its name.
     *
     * @param apps the runtime's apps, not started
     * @param path the old runtime's Unix socket
     * @return the link to the old runtime
     * @throws java.io.IOException when the sockets cannot be taken
     */
    public static Handover.Taken takeOver(java.util.Collection<Forkless> apps, String path) throws java.io.IOException {
        java.util.Map<String, SharedListeners> byApp = new java.util.LinkedHashMap<>();
        apps.forEach(f -> byApp.put(f.appName(), f.listeners));
        return Handover.take(byApp, path);
    }

    /**
     * Stops for good while another runtime holds the same listening sockets: after a handover (the new
     * runtime serves on them), or a takeover that failed (the old one does). Every copy stops accepting and
     * drains; the sockets close in this JVM only. An app of several is not stopped on its own
     * ({@link #stopAsync}), which shuts its sockets down, for the other runtime too.
     *
     * @param reason why, for the log
     */
    public void handedOver(String reason) {
        if (group == null) {
            stopAsync(reason);
        } else {
            end(reason, 0);
        }
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts every copy and waits until each serving copy is ready.
     *
     * <p>The JVM-wide changes happen here, not when the runtime is built: the console is routed by copy
     * (and JUL's console handler with it), uncaught exceptions are dispatched by isolate, the
     * deserialization filters are set.
     *
     * @return this
     * @throws ForklessException when the app cannot start; nothing is left running then
     * @throws IllegalStateException when it was started or stopped before: a Forkless starts once
     */
    public Forkless start() {
        if (!lifecycle.compareAndSet(Lifecycle.NEW, Lifecycle.STARTED)) {
            throw new IllegalStateException(lifecycle.get() == Lifecycle.STARTED ? "already started"
                    : "stopped: a Forkless starts once; build a new one");
        }
        ForklessConfig config = config();
        ConsoleRouter routed = ConsoleRouter.install();
        routed.keepEscapes(config.consoleEscapes());
        if (logLines != null) {
            routed.logTo(logLines);
        }
        routed.logTo(tailLines);
        console = routed;
        UncaughtExceptionDispatcher.install();
        dev.forkless.isolate.SerialFilters.install();
        if (config.mode() == Mode.ISOLATE && config.metering()) {
            eventListeners.add(event -> {
                CopyMeter m = meter; // the run's: an app of several that starts again meters with the meter then
                if (m == null) {
                    return;
                }
                if (event instanceof ForklessEvent.Started st && st.mode() == Mode.ISOLATE) {
                    m.track(st.workerId());
                } else if (event instanceof ForklessEvent.Ready) {
                    m.begin();
                } else if (event instanceof ForklessEvent.Unloaded u) {
                    m.forget(u.workerId());
                }
            });
        }
        Supervisor first = supervisor;
        meterRun(first, config);
        try {
            first.start(config.copies(), config.standby());
        } catch (ForklessException e) {
            first.terminated().join();
            lifecycle.set(Lifecycle.STOPPED);
            tearDown();
            ended.complete(e.exitCode());
            if (group != null) {
                group.noSlotServes(this, "cannot start: " + e.getMessage(), e.exitCode());
            }
            throw e;
        }
        startedOnce = true;
        if (group == null) {
            first.terminated().whenComplete((code, error) -> ended.complete(code));
        }
        guardMemory(config.maxMemory());
        scheduleReloads(config.cronRestart());
        if (config.watch()) {
            try {
                watcher = new JarWatcher(app.classPath(), config.watchDelay(), () -> supervisor.reload("watch"));
            } catch (java.io.IOException e) {
                stopAsync("cannot watch the app's jars: " + e.getMessage()).join();
                throw new ForklessException("cannot watch the app's jars: " + e.getMessage(), 1);
            }
        }
        return this;
    }

    /**
     * Meters the isolates of {@code run} (isolate mode, metering on): with a group the runtime's one meter,
     * let go when {@code run} terminates ({@link #runOver} completes after that).
     */
    private void meterRun(Supervisor run, ForklessConfig config) {
        if (config.mode() != Mode.ISOLATE || !config.metering()) {
            runOver = run.terminated();
            return;
        }
        // one JFR stream for the runtime's apps
        CopyMeter m = group != null ? group.meter() : new CopyMeter(meterFromStart);
        meter = m;
        runOver = run.terminated().whenComplete((code, error) -> {
            if (meter == m) {
                meter = null;
            }
            if (group != null) {
                group.releaseMeter();
            } else {
                m.close();
            }
        });
    }

    /** Starts the memory guard at {@code limit}, in place of the one running; 0: none. */
    private synchronized void guardMemory(long limit) {
        MemoryGuard old = memoryGuard;
        if (old != null) {
            old.close();
        }
        memoryGuard = null;
        if (limit > 0) {
            Supervisor run = supervisor;
            MemoryGuard guard = new MemoryGuard(limit, run::workers, this::usage, this::keptAt, this::askKept,
                    run::restart, publish);
            memoryGuard = guard;
            run.terminated().whenComplete((code, error) -> guard.close());
        }
    }

    /** Reloads on {@code schedule}, in place of the schedule running; null: never. */
    private synchronized void scheduleReloads(CronSchedule schedule) {
        CronRestart old = cron;
        if (old != null) {
            old.close();
        }
        cron = null;
        if (schedule != null) {
            CronRestart next = new CronRestart(schedule, java.time.Clock.systemDefaultZone(), () -> supervisor.reload("cron"));
            cron = next;
            supervisor.terminated().whenComplete((code, error) -> next.close());
        }
    }

    /**
     * A rolling reload with new settings ({@code reload --update-env}): the settings a live runtime can
     * change ({@link ConfigChange#live}) are taken at once, so every copy started from now on has them
     * (the environment, the app's arguments, child JVM options, the restart policy, timeouts, the memory
     * limit, the cron schedule); a new number of copies is a scale; then every copy is replaced, one at a
     * time, as {@link #reload(String)} does. What needs a restart is kept as it is and said:
     * {@link ForklessEvent.SettingsChanged} and the answer's {@link ConfigChange}.
     *
     * @param trigger what asked for it, in the log
     * @param next    the settings re-read (from the config file, by the CLI)
     * @return what changed and how the reload ended
     */
    public synchronized CompletableFuture<SettingsReload> reload(String trigger, RuntimeSettings next) {
        RuntimeSettings before = current.get();
        ConfigChange change = ConfigChange.between(before, next);
        RuntimeSettings taken = ConfigChange.live(before, next);
        ForklessConfig live = taken.config();
        current.set(taken);
        supervisor.reconfigure(live.restartPolicy(), live.readyTimeout());
        if (live.maxMemory() != before.config().maxMemory()) {
            guardMemory(live.maxMemory());
        }
        if (!Objects.equals(live.cronRestart(), before.config().cronRestart())) {
            scheduleReloads(live.cronRestart());
        }
        publish.accept(new ForklessEvent.SettingsChanged(java.time.Instant.now(), change.applied(), change.needsRestart()));
        if (stoppedApp()) { // its copies take the settings when it starts again
            return CompletableFuture.completedFuture(new SettingsReload(change, OperationResult.done(0)));
        }
        CompletableFuture<OperationResult> scaled = live.copies() == before.config().copies()
                ? CompletableFuture.completedFuture(OperationResult.done(0)) : supervisor.scale(live.copies());
        return scaled.thenCompose(s -> !s.ok() ? CompletableFuture.completedFuture(s)
                        : supervisor.reload(trigger).thenApply(r -> new OperationResult(r.ok(), r.replaced() + s.replaced(), r.reason())))
                .thenApply(result -> new SettingsReload(change, result));
    }

    /**
     * Rolling reload: every copy is replaced by a new one started from the app as it is now on disk, one
     * at a time, each old copy draining only once its replacement is ready. A replacement that fails or
     * is not ready within the ready timeout aborts the reload and the old copies keep serving.
     *
     * @return how it ended
     */
    public CompletableFuture<OperationResult> reload() {
        return whileRunning(run -> run.reload("api"));
    }

    /** What an operation on a stopped app of several answers. */
    static final String STOPPED = "the app is stopped (start APP starts it again)";

    /** Runs an operation on the app's copies; an app of several that is stopped ({@code stop APP}) has none. */
    private CompletableFuture<OperationResult> whileRunning(
            java.util.function.Function<Supervisor, CompletableFuture<OperationResult>> operation) {
        Supervisor run = supervisor;
        if (stoppedApp()) {
            return CompletableFuture.completedFuture(OperationResult.failed(0, STOPPED));
        }
        return operation.apply(run);
    }

    /** @return whether this is an app of several that was stopped on its own ({@code stop APP}) and runs no copy */
    private boolean stoppedApp() {
        return group != null && lifecycle.get() == Lifecycle.STARTED && supervisor.terminated().isDone();
    }

    /**
     * Rolling reload, naming what triggered it in the log.
     *
     * @param trigger what asked for it (for example {@code "SIGHUP"}, {@code "watch"})
     * @return how it ended
     */
    public CompletableFuture<OperationResult> reload(String trigger) {
        return whileRunning(run -> run.reload(trigger));
    }

    /**
     * Replaces one copy without downtime.
     *
     * @param workerId the copy's id
     * @return how it ended; not ok when no copy has that id
     */
    public CompletableFuture<OperationResult> restart(String workerId) {
        return whileRunning(run -> run.restart(workerId));
    }

    /**
     * Sets the number of serving copies: up starts new copies, down drains the newest.
     *
     * @param copies serving copies, at least 1
     * @return how it ended, once new copies are ready
     */
    public CompletableFuture<OperationResult> scale(int copies) {
        return whileRunning(run -> run.scale(copies));
    }

    /** @return the addresses the app listens on, through the runtime's shared sockets */
    public List<InetSocketAddress> addresses() {
        return listeners.addresses();
    }

    /**
     * What an isolate costs: its share of the JVM's CPU, what it allocates, its classes and metaspace.
     *
     * @param workerId the copy's id
     * @return its usage; empty for a copy that is not an isolate, or not metered yet
     */
    public java.util.Optional<CopyUsage> usage(String workerId) {
        CopyMeter m = meter;
        return m == null ? java.util.Optional.empty() : m.usage(workerId);
    }

    /**
     * Turns the metering of isolates off or on while the runtime runs, without touching a copy: off closes
     * the JFR stream, so nothing of metering costs the copies anything, and {@link #usage} is empty; on opens
     * it again (figures after a second). The runtime's apps share one meter, so this turns it for all of them.
     * A runtime started without metering ({@code --no-metering}, or process mode, where the OS meters each
     * child) has nothing to turn.
     *
     * What is asked holds for a run of the app that starts again ({@link #startAgain}), too.
     *
     * @param on whether to meter
     * @return whether the meter did as asked (false: it could not within 30 s, and follows later); empty when
     *         this runtime has no meter now (process mode, {@code --no-metering}, or the app does not run)
     */
    public java.util.Optional<Boolean> meter(boolean on) {
        if (group != null) {
            group.meterFromStart(on);
        } else {
            meterFromStart = on;
        }
        CopyMeter m = meter;
        return m == null ? java.util.Optional.empty() : java.util.Optional.of(m.meter(on));
    }

    /** @return whether isolates are metered now; empty when this runtime has no meter (see {@link #meter(boolean)}) */
    public java.util.Optional<Boolean> metering() {
        CopyMeter m = meter;
        return m == null ? java.util.Optional.empty() : java.util.Optional.of(m.metering());
    }

    /** When the meter last read what each copy keeps (for the memory guard). */
    private java.time.Instant keptAt() {
        CopyMeter m = meter;
        return m == null ? java.time.Instant.EPOCH : m.keptAt();
    }

    /** Has the meter read what each copy keeps now (the memory guard saw the heap pass its limit). */
    private void askKept() {
        CopyMeter m = meter;
        if (m != null) {
            m.readKeptSoon();
        }
    }

    /**
     * The last lines a copy printed (standard output and error, whether or not {@code --logs} writes them
     * to files), kept in memory: at most 200 per copy, each cut after 2000 characters, escaped as the
     * console shows them; also for the 16 copies that went most recently.
     *
     * @param workerId the copy's id
     * @param lines    how many of the last lines, at most
     * @return its last lines, oldest first; empty when the runtime holds none for that id
     */
    public java.util.Optional<List<CopyLogLine>> logTail(String workerId, int lines) {
        return tail.tail(workerId, lines);
    }

    /** @return a snapshot of every copy, serving, standby and draining */
    public List<WorkerSnapshot> workers() {
        return supervisor.workers();
    }

    /**
     * Adds an event listener. Listeners run on the supervisor's thread: they must not block.
     *
     * @param listener the listener
     */
    public void addListener(Consumer<ForklessEvent> listener) {
        eventListeners.add(Objects.requireNonNull(listener));
    }

    /**
     * Adds an event listener that first hears the runtime's last events since it started (up to 200, oldest
     * first: the copies' starts, for a dashboard opened later), then every new one; none twice, none lost.
     * Listeners run on the supervisor's thread: they must not block.
     *
     * @param listener the listener
     */
    public void addListenerWithHistory(Consumer<ForklessEvent> listener) {
        Objects.requireNonNull(listener);
        synchronized (recentEvents) {
            recentEvents.forEach(listener);
            eventListeners.add(listener);
        }
    }

    // ---- messages and shared state ----

    /**
     * Sends a message to one copy. Waits for room, or drops and counts it, when the copy's inbox is full
     * ({@link Builder#inbox}).
     *
     * @param workerId the copy's id ({@link WorkerSnapshot#id()})
     * @param message  the message
     * @return whether the copy took it: false when no running copy has that id, or it was dropped
     */
    public boolean send(String workerId, Message message) {
        return exchange.send(Objects.requireNonNull(workerId), Objects.requireNonNull(message));
    }

    /**
     * Sends text to one copy, as {@link #send(String, Message)}.
     *
     * @param workerId the copy's id
     * @param text     the text
     * @return whether the copy took it
     */
    public boolean send(String workerId, String text) {
        return send(workerId, Message.of(text));
    }

    /**
     * Sends a message to every running copy (serving, standby and draining).
     *
     * @param message the message
     * @return how many copies took it
     */
    public int broadcast(Message message) {
        return exchange.broadcast(Objects.requireNonNull(message));
    }

    /**
     * Sends text to every running copy.
     *
     * @param text the text
     * @return how many copies took it
     */
    public int broadcast(String text) {
        return broadcast(Message.of(text));
    }

    /**
     * Adds a handler for messages from copies ({@code Messages.send} in the app). Handlers run on one
     * thread of the runtime, one message at a time: each copy's messages arrive in the order it sent
     * them. A handler that blocks holds up every copy's messages.
     *
     * @param handler (sending copy's id, message)
     */
    public void onMessage(BiConsumer<String, Message> handler) {
        exchange.onMessage(Objects.requireNonNull(handler));
    }

    /** @return messages dropped so far by the runtime's inbox (full, or no handler registered) */
    public long droppedMessages() {
        return exchange.dropped();
    }

    /**
     * The shared state every copy reads locally ({@code dev.forkless.api.SharedState}). The admin API's
     * {@code PUT /api/shared/{key}} writes through it too.
     *
     * @return the store
     */
    public SharedStore sharedState() {
        return exchange.store();
    }

    /**
     * Starts a graceful stop: every copy stops accepting and drains. Stopping again (or stopping one that
     * never started) is harmless: it answers with the same exit code.
     *
     * @param reason why, for the log
     * @return completes with the exit code (0) once everything is stopped
     */
    public CompletableFuture<Integer> stopAsync(String reason) {
        if (group != null && lifecycle.get() == Lifecycle.STARTED) {
            return stopApp(reason);
        }
        lifecycle.set(Lifecycle.STOPPED);
        if (escalation != null) {
            escalation.close();
        }
        JarWatcher w = watcher;
        if (w != null) {
            w.close();
        }
        CompletableFuture<Integer> stopped = supervisor.stop(reason, 0).whenComplete((code, e) -> {
            tearDown();
            ended.complete(code);
        });
        if (group != null) {
            stopped.whenComplete((code, e) -> group.noSlotServes(this, "stopped: " + reason, 0));
        }
        return stopped;
    }

    /**
     * Stops one app of several ({@code stop APP}): its copies stop accepting and drain, its ports close at
     * once (clients are refused, not left in a backlog), and the runtime goes on while another app serves;
     * {@link #startAgain} starts it again.
     */
    private CompletableFuture<Integer> stopApp(String reason) {
        Supervisor run;
        synchronized (this) {
            idle = true;
            run = supervisor;
        }
        return run.stop(reason, 0, listeners::closeUntilBound)
                .whenComplete((code, e) -> group.noSlotServes(this, "stopped: " + reason, 0));
    }

    /**
     * @return whether the app runs: it started and, as an app of several, was not stopped and has a serving
     *         slot that runs or will run a copy ({@link #startAgain} starts it when not)
     */
    public synchronized boolean runs() {
        return lifecycle.get() == Lifecycle.STARTED && (group == null || !idle);
    }

    /** What {@link #startAgain} answers for an app that runs. */
    public static final String RUNS_ALREADY = "it runs already";

    /**
     * Starts the copies of an app of several again ({@code start APP}) after it was stopped
     * ({@link #stopAsync}) or every one of its copies errored, while the runtime's other apps run: as many
     * copies and standbys as its settings say now (a reload with new settings counts), on the ports it had.
     *
     * @return completes once every serving copy is ready ({@link OperationResult#replaced}: the copies
     *         started), or not ok: {@link #RUNS_ALREADY} for an app that runs or is starting (and for the
     *         app of a runtime of one app, which runs while the runtime does), else why it could not start
     *         (the app stays stopped)
     */
    public CompletableFuture<OperationResult> startAgain() {
        Supervisor last;
        synchronized (this) {
            if (lifecycle.get() != Lifecycle.STARTED) {
                return CompletableFuture.completedFuture(OperationResult.failed(0,
                        lifecycle.get() == Lifecycle.NEW ? "it was not started" : "the runtime is stopping"));
            }
            if (group == null || !idle) {
                return CompletableFuture.completedFuture(OperationResult.failed(0, RUNS_ALREADY));
            }
            idle = false;
            last = supervisor;
        }
        group.serving(this); // not ended with the others while it starts
        CompletableFuture<OperationResult> result = new CompletableFuture<>();
        last.stop("start again", 0); // an errored app's supervisor still holds its slots (for list)
        runOver.whenComplete((code, e) -> {
            Supervisor next;
            ForklessConfig config = config();
            synchronized (this) {
                if (lifecycle.get() != Lifecycle.STARTED || idle) { // the runtime or the app was stopped meanwhile
                    result.complete(OperationResult.failed(0, lifecycle.get() != Lifecycle.STARTED
                            ? "the runtime is stopping" : "it was stopped while it started"));
                    return;
                }
                next = newSupervisor(config);
                supervisor = next;
            }
            meterRun(next, config);
            next.startAsync(config.copies(), config.standby()).whenComplete((ok, error) -> {
                if (error == null) {
                    guardMemory(config().maxMemory());
                    scheduleReloads(config().cronRestart());
                    result.complete(OperationResult.done(config.copies()));
                    return;
                }
                String why = error instanceof java.util.concurrent.CompletionException wrapped && wrapped.getCause() != null
                        ? wrapped.getCause().getMessage() : error.getMessage();
                next.terminated().whenComplete((exit, x) -> {
                    synchronized (this) {
                        idle = true;
                    }
                    listeners.closeUntilBound();
                    group.noSlotServes(this, "cannot start again: " + why, exit != null && exit == 0 ? 0 : 1);
                    result.complete(OperationResult.failed(0, why));
                });
            });
        });
        return result;
    }

    /** Once every copy is stopped: closes the sockets, writes what the log files still have queued, closes the exchange. */
    private void tearDown() {
        if (!tornDown.compareAndSet(false, true)) {
            return;
        }
        listeners.close();
        ConsoleRouter c = console;
        if (c != null) {
            c.stopLogging(tailLines);
        }
        if (logs != null) {
            if (c != null) {
                c.stopLogging(logLines);
            }
            logs.close();
        }
        exchange.close();
    }

    /**
     * Waits until the runtime has stopped, by {@link #stopAsync} or because every copy errored.
     *
     * @return the exit code: 0 after a stop, 1 when every copy errored
     */
    public int awaitTermination() {
        int code = ended.join();
        lifecycle.set(Lifecycle.STOPPED);
        tearDown();
        return code;
    }

    /** Stops gracefully and waits. */
    @Override
    public void close() {
        stopAsync("closed").join();
    }

    /** Configures a {@link Forkless}. */
    public static final class Builder {
        private AppJar app;
        private List<String> args = List.of();
        private java.util.Map<String, String> fixedSettings = java.util.Map.of();
        private ForklessConfig config = ForklessConfig.DEFAULTS;
        /** Set by {@link #drainTimeout}: it wins over the policy's, whichever was set first; null: the policy's. */
        private Duration drainTimeout;
        private boolean appFromJar;
        private String name;
        private AppGroup group;
        private final List<Consumer<ForklessEvent>> listeners = new ArrayList<>();
        private final List<BiConsumer<String, Message>> messageHandlers = new ArrayList<>();

        private Builder() {
        }

        /**
         * Whether the copies' escape sequences (colours) reach the console as they are. Off by default: a
         * copy's ESC is shown as {@code \e}, so no copy can recolour, clear or retitle the operator's
         * terminal. Carriage returns and other control characters are escaped either way, so a copy can
         * never print over the tag of its line.
         *
         * @param keep whether to let them through
         * @return this
         */
        public Builder consoleEscapes(boolean keep) {
            this.config = config.withConsoleEscapes(keep);
            return this;
        }

        /**
         * Keeps the shared state in a file: read at start, and every change is written ahead to it
         * (appended and forced to disk) before it is applied, so an acknowledged change survives a restart
         * of the runtime. Without it the state lives in memory only.
         *
         * @param file the state file; created if missing
         * @return this
         */
        public Builder sharedStateFile(Path file) {
            this.config = config.withSharedStateFile(Objects.requireNonNull(file));
            return this;
        }

        /**
         * The size of each message inbox (every copy's, and the runtime's) and what a send does when it is
         * full (default 1024, {@link Overflow#BLOCK}).
         *
         * @param capacity messages an inbox holds at most
         * @param overflow wait for room, or drop and count
         * @return this
         */
        public Builder inbox(int capacity, Overflow overflow) {
            this.config = config.withInbox(capacity, Objects.requireNonNull(overflow));
            return this;
        }

        /**
         * The app's name in the log, the log files' names and the admin API (default: the jar's file name
         * without {@code .jar}).
         *
         * @param name the name: letters, digits, {@code .}, {@code _} and {@code -}, at most 64
         * @return this
         */
        public Builder name(String name) {
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                throw new IllegalArgumentException("an app's name is 1 to 64 letters, digits, '.', '_' or '-' "
                        + "(starting with a letter or digit), not '"
                        + (name.length() > 40 ? name.substring(0, 40) + "..." : name) + "'");
            }
            if (name.equals("all")) {
                throw new IllegalArgumentException("an app cannot be named 'all': the commands use it for every app");
            }
            this.name = name;
            return this;
        }

        /**
         * Runs this app beside others in one runtime: copy ids unique across them, and one app whose copies
         * all errored leaves the others running ({@link AppGroup}).
         *
         * @param group the runtime's apps
         * @return this
         */
        public Builder group(AppGroup group) {
            this.group = Objects.requireNonNull(group);
            return this;
        }

        /** @param handler receives messages from copies, as {@link Forkless#onMessage} @return this */
        public Builder onMessage(BiConsumer<String, Message> handler) {
            messageHandlers.add(Objects.requireNonNull(handler));
            return this;
        }

        /**
         * The app, as a jar with a {@code Main-Class} (its {@code Class-Path} jars come along).
         *
         * @param jar the jar
         * @return this
         * @throws ForklessException with exit code 2 when it is no runnable jar (missing, not a jar, no
         *                            {@code Main-Class}), its message one line naming the problem
         */
        public Builder app(Path jar) {
            this.app = badAppIsForklessException(() -> AppJar.open(jar));
            this.appFromJar = true;
            return this;
        }

        /** The app side's {@code BadAppException} stays behind the API: it becomes a {@link ForklessException}. */
        private static AppJar badAppIsForklessException(java.util.function.Supplier<AppJar> open) {
            try {
                return open.get();
            } catch (dev.forkless.isolate.BadAppException e) {
                throw new ForklessException(e.getMessage(), 2, e);
            }
        }

        /**
         * Reloads (rolling, without downtime) when the app's jar or one of its {@code Class-Path} jars
         * changes, once the files have been quiet for {@code delay}.
         *
         * @param delay the debounce delay (PM2's {@code watch_delay}; the CLI's default is
         *              {@link ForklessConfig#DEFAULTS}' {@code watchDelay}, 1 s)
         * @return this
         */
        public Builder watch(Duration delay) {
            this.config = config.withWatch(true, delay);
            return this;
        }

        /**
         * Whether the isolate loader inserts a cancellation check before every backward branch of app code
         * (default on), so that a copy's loops end when it is unloaded: a hung copy gives its CPU back.
         * Costs a little start time and throughput (docs/benchmarks.md); off, a thread spinning in app code
         * outlives its copy.
         *
         * @param on whether to insert them
         * @return this
         */
        public Builder loopChecks(boolean on) {
            this.config = config.withLoopChecks(on);
            return this;
        }

        /**
         * Meters each isolate's CPU and memory with a JFR stream (default on; see docs/operations.md).
         *
         * @param on whether to meter
         * @return this
         */
        public Builder metering(boolean on) {
            this.config = config.withMetering(on);
            return this;
        }

        /**
         * Replaces a copy, without downtime, that uses too much memory (as PM2's {@code max_memory_restart}):
         * in process mode a child whose resident memory passes {@code bytes}; in isolate mode, when the
         * JVM's heap after a GC passes {@code bytes}, the isolate that allocated the most over the last
         * seconds. Logged as {@code event=memory-restart}.
         *
         * @param bytes the limit ({@link Limit#MAX_MEMORY}); 0: no guard (the default)
         * @return this
         */
        public Builder maxMemory(long bytes) {
            this.config = config.withMaxMemory(bytes);
            return this;
        }

        /**
         * The hang watchdog: a serving copy with a request in flight, or an acceptor away from
         * {@code accept()}, for longer than this is replaced and drained (default 10 s; zero turns the
         * watchdog off, for apps with long-polling requests).
         *
         * @param timeout the hang timeout
         * @return this
         */
        public Builder hangTimeout(Duration timeout) {
            this.config = config.withHangTimeout(timeout);
            return this;
        }

        /**
         * {@code --escalate}: after an isolate leaks threads that cannot be stopped, run copies as child
         * JVMs from then on (a rolling reload, without failed requests); then, if the runtime's own JVM
         * keeps burning at least half a core over {@code window}, publish {@link ForklessEvent.CpuLeak}
         * (the CLI hands its sockets to a fresh runtime JVM). Off by default; only for isolate mode.
         *
         * @param window how long the runtime's CPU use is watched
         * @return this
         */
        public Builder escalate(Duration window) {
            this.config = config.withEscalate(true, window);
            return this;
        }

        /**
         * When a new copy started by a reload, restart or scale is slow (default 60 s): one still starting
         * after this long is said once ({@link ForklessEvent.SlowStart}) and waited for up to 10 times this
         * in all, the old copies serving meanwhile, before the operation aborts. A copy that crashes, exits
         * or cannot start aborts the operation at once, whatever this timeout.
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder readyTimeout(Duration timeout) {
            this.config = config.withReadyTimeout(timeout);
            return this;
        }

        /**
         * The app, as a main class on a class path; each copy still gets its own loader over it.
         *
         * @param mainClass the main class
         * @param classPath jars or folders
         * @return this
         * @throws ForklessException with exit code 2 when the class path is empty
         */
        public Builder app(String mainClass, List<Path> classPath) {
            this.app = badAppIsForklessException(() -> AppJar.ofClassPath(mainClass, classPath));
            return this;
        }

        /**
         * The settings outside {@link ForklessConfig} the runtime was started with (the CLI's {@code app},
         * {@code admin}, ...), by config file key: a reload with new settings says when one changed, as
         * needing a restart ({@link RuntimeSettings#fixed}).
         *
         * @param fixed keys and values as text
         * @return this
         */
        public Builder fixedSettings(java.util.Map<String, String> fixed) {
            this.fixedSettings = java.util.Map.copyOf(fixed);
            return this;
        }

        /** @param args the app's arguments @return this */
        public Builder args(List<String> args) {
            this.args = List.copyOf(args);
            return this;
        }

        /**
         * @param copies serving copies, 1 to 1024 ({@link Limit#COPIES}; default: available processors)
         * @return this
         * @throws IllegalArgumentException out of range
         */
        public Builder copies(int copies) {
            this.config = config.withCopies(copies);
            return this;
        }

        /**
         * @param standby warm standbys, 0 to 64 ({@link Limit#STANDBY}; default 1)
         * @return this
         * @throws IllegalArgumentException out of range
         */
        public Builder standby(int standby) {
            this.config = config.withStandby(standby);
            return this;
        }

        /**
         * @param policy the restart policy; its durations and counts within their {@link Limit}s
         * @return this
         */
        public Builder restartPolicy(RestartPolicy policy) {
            Objects.requireNonNull(policy);
            this.config = config.withRestartPolicy(drainTimeout == null ? policy : policy.withDrainTimeout(drainTimeout));
            return this;
        }

        /**
         * @param timeout how long a stopping copy's connections get, 0 to 1 h (default 5 s); it holds
         *                whether {@link #restartPolicy} is set before or after it
         * @return this
         */
        public Builder drainTimeout(Duration timeout) {
            this.drainTimeout = Limit.DRAIN_TIMEOUT.check("drain timeout", timeout);
            this.config = config.withRestartPolicy(config.restartPolicy().withDrainTimeout(timeout));
            return this;
        }

        /**
         * Whether a copy that ended is replaced at all (default on, as PM2's {@code autorestart}). Off, a
         * copy that crashes or exits leaves its slot {@link WorkerState#STOPPED}; once no serving slot runs a
         * copy, the runtime stops (exit 0, or 1 when a slot errored).
         *
         * @param on whether to restart ended copies
         * @return this
         */
        public Builder autorestart(boolean on) {
            this.config = config.withRestartPolicy(config.restartPolicy().withAutorestart(on));
            return this;
        }

        /**
         * Exit statuses after which a copy is not replaced (PM2's {@code stop_exit_codes}; default none): its
         * slot stays {@link WorkerState#STOPPED}, as with {@link #autorestart} off.
         *
         * @param codes exit statuses, 0 to 255
         * @return this
         */
        public Builder stopExitCodes(java.util.Set<Integer> codes) {
            this.config = config.withRestartPolicy(config.restartPolicy().withStopExitCodes(codes));
            return this;
        }

        /**
         * A fixed delay before every restart of a slot, instead of the exponential back-off (PM2's
         * {@code restart_delay}).
         *
         * @param delay the delay ({@link Limit#RESTART_DELAY})
         * @return this
         */
        public Builder fixedRestartDelay(Duration delay) {
            this.config = config.withRestartPolicy(config.restartPolicy().withFixedDelay(delay));
            return this;
        }

        /** @return the restart policy, with the drain timeout set by {@link #drainTimeout} if one was */
        RestartPolicy policy() {
            return config.restartPolicy();
        }

        /**
         * How copies run: {@link Mode#ISOLATE} (default), isolates in this JVM, or
         * {@link Mode#PROCESS}, child JVMs sharing the runtime's listening sockets.
         *
         * @param mode the mode
         * @return this
         */
        public Builder mode(Mode mode) {
            this.config = config.withMode(mode);
            return this;
        }

        /** @param jvmArgs extra options for each child JVM in process mode (e.g. {@code -Xmx256m}) @return this */
        public Builder jvmArgs(List<String> jvmArgs) {
            this.config = config.withJvmArgs(jvmArgs);
            return this;
        }

        /**
         * Writes every copy's output and the runtime's events to files (default: the console only).
         *
         * @param logs where and how
         * @return this
         */
        public Builder logs(LogSettings logs) {
            this.config = config.withLogs(Objects.requireNonNull(logs));
            return this;
        }

        /**
         * Variables the app sees on top of the runtime's own environment (a config file's {@code env}
         * block). Each copy also sees {@code FORKLESS_WORKER_ID}, its id, and {@code FORKLESS_INSTANCE}, its
         * slot's number {@code 0..n-1} (a standby: once promoted, see docs/configuration.md). In process mode they are the
         * child JVM's real environment; in isolate mode {@code System.getenv} called from the app answers
         * with them.
         *
         * @param environment names and values
         * @return this
         */
        public Builder environment(java.util.Map<String, String> environment) {
            this.config = config.withEnvironment(environment);
            return this;
        }

        /**
         * Reloads every copy on a schedule, as {@link #reload} does (PM2's {@code cron_restart}); default: never.
         *
         * @param schedule when, in the machine's time zone ({@link CronSchedule#parse})
         * @return this
         */
        public Builder cronRestart(CronSchedule schedule) {
            this.config = config.withCronRestart(Objects.requireNonNull(schedule));
            return this;
        }

        /**
         * What a standby requests of itself, {@code GET path} on private connections, until it is promoted,
         * so that its request path has run before its first client (default {@code /}).
         *
         * @param path a path starting with {@code /}; null: a standby waits cold
         * @return this
         */
        public Builder warmUp(String path) {
            this.config = config.withWarmUp(path);
            return this;
        }

        /**
         * Takes every setting at once: the ones set before are replaced, the app, its arguments, listeners
         * and message handlers stay. Later setters change the settings further.
         *
         * @param config the settings ({@link ForklessConfig#DEFAULTS} and its {@code with} methods)
         * @return this
         */
        public Builder config(ForklessConfig config) {
            this.config = Objects.requireNonNull(config);
            this.drainTimeout = null;
            return this;
        }

        /** @return the settings as set so far */
        public ForklessConfig config() {
            return config;
        }

        /**
         * Adds an event listener. Listeners get every event, in the order things happened, each event
         * first to the listener added first; they run on the supervisor's thread and must not block.
         *
         * @param listener receives every event
         * @return this
         */
        public Builder listener(Consumer<ForklessEvent> listener) {
            listeners.add(Objects.requireNonNull(listener));
            return this;
        }

        /**
         * @return the runtime, not started
         * @throws IllegalArgumentException when the shared state file cannot be read or written
         */
        public Forkless build() {
            if (app == null) {
                throw new IllegalStateException("no app");
            }
            SharedStore store;
            Path sharedStateFile = config.sharedStateFile();
            if (sharedStateFile == null) {
                store = SharedStore.inMemory();
            } else {
                try {
                    store = SharedStore.persistent(sharedStateFile);
                } catch (java.io.IOException e) {
                    throw new IllegalArgumentException("cannot use the shared state file " + sharedStateFile + ": "
                            + e.getMessage(), e);
                }
            }
            return new Forkless(this, store);
        }
    }
}
