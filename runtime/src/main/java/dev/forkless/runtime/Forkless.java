package dev.forkless.runtime;

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
 * The CLI is built on this class.
 */
public final class Forkless implements AutoCloseable {

    private final Builder config;
    private final SharedListeners listeners;
    private final Supervisor supervisor;
    private final List<Consumer<ForklessEvent>> eventListeners;

    private Forkless(Builder builder) {
        this.config = builder;
        this.eventListeners = new CopyOnWriteArrayList<>(builder.listeners);
        ConsoleRouter console = ConsoleRouter.install();
        Consumer<ForklessEvent> routeConsole = new Consumer<>() {
            private boolean startFailed;

            @Override
            public void accept(ForklessEvent event) {
                switch (event) {
                    case ForklessEvent.Started e -> console.hold(e.workerId());
                    case ForklessEvent.Ready e -> console.release(e.workerId(), true);
                    case ForklessEvent.Crashed e -> console.release(e.workerId(), !startFailed);
                    case ForklessEvent.Exited e -> console.release(e.workerId(), !startFailed);
                    case ForklessEvent.Unloaded e -> console.forget(e.workerId(), !startFailed);
                    case ForklessEvent.Stopping e -> startFailed |= e.exitCode() == 2;
                    default -> { }
                }
            }
        };
        Consumer<ForklessEvent> publish = event -> {
            routeConsole.accept(event);
            eventListeners.forEach(l -> l.accept(event));
        };
        this.listeners = new SharedListeners(address ->
                publish.accept(new ForklessEvent.Listening(java.time.Instant.now(), address)));
        CallSiteRewriter rewriter = new CallSiteRewriter();
        this.supervisor = new Supervisor(
                (id, accepting, events) -> new IsolateCopy(id, builder.app, builder.args, accepting, listeners,
                        rewriter, events),
                builder.policy, publish);
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts every copy and waits until each serving copy is ready.
     *
     * @return this
     * @throws ForklessException when the app cannot start; nothing is left running then
     */
    public Forkless start() {
        UncaughtExceptionDispatcher.install();
        try {
            supervisor.start(config.copies, config.standby);
        } catch (ForklessException e) {
            supervisor.terminated().join();
            listeners.close();
            throw e;
        }
        return this;
    }

    /** @return the addresses the app listens on, through the runtime's shared sockets */
    public List<InetSocketAddress> addresses() {
        return listeners.addresses();
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
     * Starts a graceful stop: every copy stops accepting and drains.
     *
     * @param reason why, for the log
     * @return completes with the exit code (0) once everything is stopped
     */
    public CompletableFuture<Integer> stopAsync(String reason) {
        return supervisor.stop(reason, 0).whenComplete((code, e) -> listeners.close());
    }

    /**
     * Waits until the runtime has stopped, by {@link #stopAsync} or because every copy errored.
     *
     * @return the exit code: 0 after a stop, 1 when every copy errored
     */
    public int awaitTermination() {
        int code = supervisor.terminated().join();
        listeners.close();
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
        private int copies = Runtime.getRuntime().availableProcessors();
        private int standby = 1;
        private RestartPolicy policy = RestartPolicy.DEFAULT;
        private final List<Consumer<ForklessEvent>> listeners = new ArrayList<>();

        private Builder() {
        }

        /**
         * The app, as a jar with a {@code Main-Class} (its {@code Class-Path} jars come along).
         *
         * @param jar the jar
         * @return this
         * @throws dev.forkless.isolate.BadAppException when it is no runnable jar
         */
        public Builder app(Path jar) {
            this.app = AppJar.open(jar);
            return this;
        }

        /**
         * The app, as a main class on a class path; each copy still gets its own loader over it.
         *
         * @param mainClass the main class
         * @param classPath jars or folders
         * @return this
         */
        public Builder app(String mainClass, List<Path> classPath) {
            this.app = AppJar.ofClassPath(mainClass, classPath);
            return this;
        }

        /** @param args the app's arguments @return this */
        public Builder args(List<String> args) {
            this.args = List.copyOf(args);
            return this;
        }

        /** @param copies serving copies, at least 1 (default: available processors) @return this */
        public Builder copies(int copies) {
            if (copies < 1) {
                throw new IllegalArgumentException("copies must be at least 1");
            }
            this.copies = copies;
            return this;
        }

        /** @param standby warm standbys, 0 or more (default 1) @return this */
        public Builder standby(int standby) {
            if (standby < 0) {
                throw new IllegalArgumentException("standby must not be negative");
            }
            this.standby = standby;
            return this;
        }

        /** @param policy the restart policy @return this */
        public Builder restartPolicy(RestartPolicy policy) {
            this.policy = Objects.requireNonNull(policy);
            return this;
        }

        /** @param timeout how long a stopping copy's connections get (default 5 s) @return this */
        public Builder drainTimeout(Duration timeout) {
            this.policy = policy.withDrainTimeout(timeout);
            return this;
        }

        /** @param listener receives every event, on the supervisor's thread @return this */
        public Builder listener(Consumer<ForklessEvent> listener) {
            listeners.add(Objects.requireNonNull(listener));
            return this;
        }

        /** @return the runtime, not started */
        public Forkless build() {
            if (app == null) {
                throw new IllegalStateException("no app");
            }
            return new Forkless(this);
        }
    }
}
