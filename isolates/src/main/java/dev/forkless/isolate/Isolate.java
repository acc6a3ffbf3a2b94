package dev.forkless.isolate;

import dev.forkless.api.Worker;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Modifier;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * One copy of an app inside a JVM: its class loader, its threads, its listener views, and what it has
 * asked of the JVM (shutdown hooks, an uncaught exception handler, an exit).
 *
 * <p>Life: {@link #start} runs the app's {@code main} on a thread of the isolate; the host hears
 * {@link IsolateHost#ready}, {@link IsolateHost#exited} or {@link IsolateHost#crashed}. To stop it the
 * host calls {@link #stopAccepting()} and {@link #beginDrain()}, waits for {@link #openConnections()}
 * to reach zero or for its drain timeout, then {@link #unload}.
 */
public final class Isolate {

    private final String id;
    private final Worker.Mode mode;
    private final AppJar app;
    private final IsolateHost host;
    private final IsolateThreadGroup threads;
    private final Set<ListenerView> views = new CopyOnWriteArraySet<>();
    private final Set<Thread> shutdownHooks = new LinkedHashSet<>();
    private final Set<Thread> exiting = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final LongAdder requests = new LongAdder();
    private final LongAdder accepted = new LongAdder();
    /** Requests being handled, by the thread handling each, with their start (System.nanoTime). */
    private final RequestClock inFlight = new RequestClock();
    private final AtomicBoolean readyReported = new AtomicBoolean();
    private final AtomicBoolean endReported = new AtomicBoolean();
    private final Cancellation cancellation = new Cancellation();
    private final Object unloadLock = new Object();
    private volatile IsolateClassLoader loader;
    private volatile boolean accepting;
    private volatile boolean draining;
    private volatile boolean unloaded;
    private volatile boolean halted;
    private volatile Thread.UncaughtExceptionHandler defaultHandler;
    private final IsolateConsole console = new IsolateConsole();
    /** The copy's system properties: the JVM's as they were when it was built, then its own changes. */
    private volatile java.util.Properties properties;
    private volatile java.io.ObjectInputFilter serialFilter;
    private final java.util.Map<String, String> environment;
    private final IsolateInbox inbox;
    private final ListenerOwner listenerOwner = new Listeners();

    private Isolate(Builder builder) {
        this.environment = builder.environment;
        this.id = builder.id;
        this.mode = builder.mode;
        this.app = builder.app;
        this.host = builder.host;
        this.accepting = builder.accepting;
        this.threads = new IsolateThreadGroup(this);
        this.properties = copyOf(System.getProperties());
        this.loader = new IsolateClassLoader(this, app.classPath(), builder.hostLoader, builder.rewriter);
        this.inbox = new IsolateInbox(this, builder.inboxCapacity, builder.inboxBlocks);
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The isolate a class belongs to.
     *
     * @param type a class
     * @return its isolate, or {@code null} when an isolate's loader did not define it
     */
    public static Isolate of(Class<?> type) {
        return type != null && type.getClassLoader() instanceof IsolateClassLoader l ? l.isolate() : null;
    }

    /**
     * The isolate a thread works for: the one whose thread group it is in (platform threads the app
     * started), or whose loader is its context class loader (virtual threads the app started).
     *
     * @param thread a thread
     * @return its isolate, or {@code null}
     */
    public static Isolate of(Thread thread) {
        if (thread.getThreadGroup() instanceof IsolateThreadGroup group) {
            return group.isolate();
        }
        return thread.getContextClassLoader() instanceof IsolateClassLoader l ? l.isolate() : null;
    }

    /**
     * Runs the app's {@code main(String[])} on a new thread of this isolate.
     *
     * @param args the app's arguments
     * @throws BadAppException when the main class cannot be found or has no usable {@code main}
     */
    public void start(List<String> args) {
        MethodHandle main = findMain();
        String[] argv = args.toArray(String[]::new);
        Thread thread = Thread.ofPlatform()
                .group(threads)
                .name("isolate-" + id + "-main")
                .unstarted(() -> runMain(main, argv));
        thread.setContextClassLoader(loader);
        inbox.start(loader);
        thread.start();
    }

    /**
     * Finds how to launch the app as the {@code java} launcher does (JEP 512): a {@code main(String[])},
     * else a {@code main()}, static or not, not private; an instance {@code main} needs a non-private
     * no-argument constructor.
     *
     * @return a handle taking {@code String[]}
     */
    private MethodHandle findMain() {
        Class<?> mainClass;
        try {
            mainClass = Class.forName(app.mainClass(), false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new BadAppException("cannot load Main-Class " + app.mainClass() + " of " + app.jar().getFileName()
                    + ": " + e, e);
        }
        java.lang.reflect.Method main = mainMethod(mainClass, true);
        if (main == null) {
            main = mainMethod(mainClass, false);
        }
        if (main == null) {
            throw new BadAppException("Main-Class " + app.mainClass() + " has no main method (void main(String[]) or "
                    + "void main(), not private)");
        }
        try {
            main.setAccessible(true);
            MethodHandle handle = MethodHandles.lookup().unreflect(main);
            if (!Modifier.isStatic(main.getModifiers())) {
                java.lang.reflect.Constructor<?> constructor = mainClass.getDeclaredConstructor();
                if (Modifier.isPrivate(constructor.getModifiers())) {
                    throw new NoSuchMethodException("private constructor");
                }
                constructor.setAccessible(true);
                handle = MethodHandles.foldArguments(handle, MethodHandles.lookup().unreflectConstructor(constructor));
            }
            if (main.getParameterCount() == 0) {
                handle = MethodHandles.dropArguments(handle, 0, String[].class);
            }
            return handle.asType(MethodType.methodType(void.class, String[].class));
        } catch (NoSuchMethodException e) {
            throw new BadAppException("Main-Class " + app.mainClass() + " has an instance main method but no "
                    + "non-private constructor without arguments");
        } catch (IllegalAccessException | RuntimeException e) {
            throw new BadAppException("cannot launch Main-Class " + app.mainClass() + ": " + e, e);
        }
    }

    /** The launcher's choice of {@code main} in a class and its superclasses; {@code null} if none. */
    private static java.lang.reflect.Method mainMethod(Class<?> type, boolean withArgs) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            try {
                java.lang.reflect.Method m = withArgs ? c.getDeclaredMethod("main", String[].class) : c.getDeclaredMethod("main");
                if (!Modifier.isPrivate(m.getModifiers()) && m.getReturnType() == void.class) {
                    return m;
                }
            } catch (NoSuchMethodException e) {
                // look further up
            } catch (LinkageError e) {
                throw new BadAppException("cannot load Main-Class " + type.getName() + ": " + e, e);
            }
        }
        return null;
    }

    private void runMain(MethodHandle main, String[] argv) {
        try {
            main.invokeExact(argv);
        } catch (IsolateExit | Cancellation.IsolateCancelled ended) {
            return;
        } catch (Throwable t) {
            reportCrash(Thread.currentThread(), t);
            return;
        }
        if (views.isEmpty() && !threads.hasLiveNonDaemon(Thread.currentThread())) {
            // main returned and nothing of the app is left running: a JVM would exit now.
            reportExit(0);
        }
    }

    // ---- what the app's calls reach, through the rewritten call sites ----

    ListenerView openListener(SelectorProvider provider) {
        return new ListenerView(listenerOwner, provider);
    }

    /** What this isolate's listener views ask of it. */
    private final class Listeners implements ListenerOwner {
        @Override
        public SharedSocket bind(java.net.SocketAddress requested, int backlog,
                                 java.util.Map<java.net.SocketOption<?>, Object> options) throws java.io.IOException {
            return host.bind(Isolate.this, requested, backlog, options);
        }

        @Override
        public boolean isAccepting() {
            return accepting;
        }

        @Override
        public void bound(ListenerView view) {
            views.add(view);
        }

        @Override
        public void acceptorStarted(ListenerView view) {
            signalReady();
        }

        @Override
        public void accepted(ListenerView view, java.nio.channels.SocketChannel connection) {
            accepted.increment();
        }

        @Override
        public void closed(ListenerView view) {
            // kept in views: its accepted connections still count until the isolate is unloaded
        }

        @Override
        public String toString() {
            return "isolate " + id;
        }
    }

    /** The app asked to exit: report it once, then block the caller until the isolate is unloaded. */
    void exit(int status, boolean halt) {
        if (halt) {
            halted = true;
        }
        reportExit(status);
        Thread self = Thread.currentThread();
        exiting.add(self);
        try {
            while (!unloaded) {
                LockSupport.park(this);
                Thread.interrupted();
            }
        } finally {
            exiting.remove(self);
        }
        throw new IsolateExit(status);
    }

    void addShutdownHook(Thread hook) {
        Objects.requireNonNull(hook, "hook");
        synchronized (shutdownHooks) {
            if (unloaded) {
                throw new IllegalStateException("Shutdown in progress");
            }
            if (hook.isAlive()) {
                throw new IllegalArgumentException("Hook already running");
            }
            if (!shutdownHooks.add(hook)) {
                throw new IllegalArgumentException("Hook previously registered");
            }
        }
    }

    boolean removeShutdownHook(Thread hook) {
        Objects.requireNonNull(hook, "hook");
        synchronized (shutdownHooks) {
            return shutdownHooks.remove(hook);
        }
    }

    private static java.util.Properties copyOf(java.util.Properties source) {
        java.util.Properties copy = new java.util.Properties();
        for (String name : source.stringPropertyNames()) {
            copy.setProperty(name, source.getProperty(name));
        }
        return copy;
    }

    /** @return the copy's console overrides ({@code System.setOut/setErr} in its code) */
    public IsolateConsole console() {
        return console;
    }

    /** @return the copy's system properties */
    public java.util.Properties properties() {
        return properties;
    }

    void setProperties(java.util.Properties props) {
        properties = props == null ? copyOf(System.getProperties()) : props;
    }

    /** @return the copy's deserialization filter, or {@code null} */
    public java.io.ObjectInputFilter serialFilter() {
        return serialFilter;
    }

    synchronized void setSerialFilter(java.io.ObjectInputFilter filter) {
        java.util.Objects.requireNonNull(filter, "filter");
        if (serialFilter != null) {
            throw new IllegalStateException("Serial filter can only be set once");
        }
        serialFilter = filter;
    }

    /**
     * The environment the app sees through {@code System.getenv}: the one given to the builder, or the
     * JVM's own when none was given.
     *
     * @return an unmodifiable map
     */
    public java.util.Map<String, String> environment() {
        return environment == null ? System.getenv() : environment;
    }

    void setDefaultUncaughtExceptionHandler(Thread.UncaughtExceptionHandler handler) {
        this.defaultHandler = handler;
    }

    Thread.UncaughtExceptionHandler defaultUncaughtExceptionHandler() {
        return defaultHandler;
    }

    /** An exception escaped one of this isolate's threads. */
    void uncaught(Thread thread, Throwable cause) {
        if (cause instanceof IsolateExit || cause instanceof Cancellation.IsolateCancelled) {
            return;
        }
        Thread.UncaughtExceptionHandler handler = defaultHandler;
        if (handler != null) {
            // The app installed its own last-resort handler: it decides, as it would in its own JVM.
            try {
                handler.uncaughtException(thread, cause);
            } catch (Throwable ignored) {
                // as the JVM does, ignore what the handler throws
            }
            return;
        }
        reportCrash(thread, cause);
    }

    private void reportCrash(Thread thread, Throwable cause) {
        if (!unloaded && endReported.compareAndSet(false, true)) {
            host.crashed(this, thread, cause);
        }
    }

    private void reportExit(int status) {
        if (!unloaded && endReported.compareAndSet(false, true)) {
            host.exited(this, status);
        }
    }

    /** The app is ready: the first time, tell the host. */
    public void signalReady() {
        if (!unloaded && readyReported.compareAndSet(false, true)) {
            host.ready(this);
        }
    }

    // ---- what the host controls ----

    /** Lets this isolate's views take connections. */
    public void startAccepting() {
        accepting = true;
        views.forEach(v -> v.setAccepting(true));
    }

    /** Stops this isolate's views from taking connections; their acceptors keep waiting. */
    public void stopAccepting() {
        accepting = false;
        views.forEach(v -> v.setAccepting(false));
    }

    /**
     * From now on every response this isolate sends carries {@code Connection: close}, so keep-alive
     * clients move to another isolate after their current request.
     */
    public void beginDrain() {
        draining = true;
        stopAccepting();
    }

    /** @return connections accepted by this isolate that are still open */
    public int openConnections() {
        int open = 0;
        for (ListenerView view : views) {
            open += view.openConnections();
        }
        return open;
    }

    /**
     * Ends what is left of the isolate: closes its listener views (the app's acceptors stop) and the
     * connections still open, runs the app's shutdown hooks (unless it halted), stops its threads,
     * removes what it left in JVM-wide places, and closes its loader. Call once the drain is over.
     *
     * @param grace how long shutdown hooks and threads get to end
     * @return what could not be cleaned up
     */
    public UnloadReport unload(Duration grace) {
        synchronized (unloadLock) {
            if (loader == null) {
                return new UnloadReport(0, List.of()); // unloaded before
            }
            return unloadOnce(grace);
        }
    }

    private UnloadReport unloadOnce(Duration grace) {
        List<Thread> hooks;
        synchronized (shutdownHooks) {
            unloaded = true;
            hooks = new ArrayList<>(shutdownHooks);
            shutdownHooks.clear();
        }
        exiting.forEach(LockSupport::unpark);
        long deadline = System.nanoTime() + grace.toNanos();
        // The app's own shutdown first: a Helidon server stops its listeners itself. Closing a view
        // under a running Helidon listener would make the listener stop itself on its own thread,
        // which never returns.
        if (!halted) {
            for (Thread hook : hooks) {
                hook.setContextClassLoader(loader);
                hook.start();
            }
            for (Thread hook : hooks) {
                joinUntil(hook, deadline);
            }
        }
        int forced = 0;
        for (ListenerView view : List.copyOf(views)) {
            forced += view.closeConnections();
            try {
                view.close();
            } catch (java.io.IOException ignored) {
                // closing is best effort
            }
        }
        // loops of app code that are still running end at their next back edge
        cancellation.cancel();
        Thread messageThread = inbox.close();
        List<String> leftover = new ArrayList<>(IsolateCleaner.stopThreads(threads, loader, deadline));
        if (messageThread != null) {
            messageThread.interrupt();
            joinUntil(messageThread, deadline);
            if (messageThread.isAlive()) {
                leftover.add(messageThread.getName());
            }
        }
        for (Thread requestThread : inFlight.busyThreads()) {
            joinUntil(requestThread, deadline);
            if (requestThread.isAlive()) {
                leftover.add(requestThread.getName().isEmpty() ? "virtual thread #" + requestThread.threadId()
                        : requestThread.getName());
            }
        }
        inFlight.clear();
        IsolateCleaner.clearJvmWideReferences(loader);
        loader.close();
        defaultHandler = null;
        serialFilter = null;
        console.clear();
        loader = null;
        views.clear();
        return new UnloadReport(forced, leftover);
    }

    private static void joinUntil(Thread thread, long deadline) {
        long remaining = deadline - System.nanoTime();
        if (remaining > 0) {
            try {
                thread.join(Duration.ofNanos(remaining));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * What {@link #unload} could not do.
     *
     * @param forcedConnections connections still open at unload, closed by force
     * @param leftoverThreads   names of the isolate's threads still alive after the grace period
     */
    public record UnloadReport(int forcedConnections, List<String> leftoverThreads) {
        public UnloadReport {
            leftoverThreads = List.copyOf(leftoverThreads);
        }
    }

    // ---- messages and shared state ----

    /** @return the copy's inbox and shared-state view */
    public IsolateInbox inbox() {
        return inbox;
    }

    /**
     * The app sends a message to its host.
     *
     * @param message the message
     * @param relay   whether the host passes it on to every copy
     * @return whether the host took it
     */
    public boolean sendToHost(dev.forkless.api.Message message, boolean relay) {
        return !unloaded && host.message(this, message, relay);
    }

    /**
     * The app changes the shared state.
     *
     * @param key   the key
     * @param value the value, or {@code null} to remove it
     */
    public void putShared(String key, String value) {
        host.putShared(this, key, value);
    }

    // ---- accessors ----

    /** @return the token the app's loops poll; cancelled at unload */
    public Cancellation cancellation() {
        return cancellation;
    }

    /** @return the isolate's id */
    public String id() {
        return id;
    }

    /** @return how this copy runs */
    public Worker.Mode mode() {
        return mode;
    }

    /** @return the app */
    public AppJar app() {
        return app;
    }

    IsolateHost host() {
        return host;
    }

    /** @return the loader, or {@code null} once unloaded */
    public ClassLoader loader() {
        return loader;
    }

    /** @return whether the views take connections */
    public boolean isAccepting() {
        return accepting;
    }

    /** @return whether the isolate is draining */
    public boolean isDraining() {
        return draining;
    }

    /** @return connections accepted so far */
    public long acceptedConnections() {
        return accepted.sum();
    }

    /** @return requests served so far (counted by the app's web server adapter) */
    public long requests() {
        return requests.sum();
    }

    /** @return requests being handled now */
    public int requestsInFlight() {
        return inFlight.inFlight();
    }

    /** A request started on the calling thread: called by the web server adapter inside the isolate. */
    public void requestStarted() {
        inFlight.started();
    }

    /** The calling thread's request ended: called by the web server adapter inside the isolate. */
    public void requestFinished() {
        inFlight.finished();
        requests.increment();
    }

    /**
     * Whether the isolate stopped making progress: a request has been in flight longer than
     * {@code timeout}, or an acceptor that should take connections has not been back in {@code accept()}
     * for that long.
     *
     * @param timeout the hang timeout
     * @return why it looks hung, or {@code null}
     */
    public String hung(Duration timeout) {
        long now = System.nanoTime();
        long limit = timeout.toNanos();
        long oldest = oldestRequestNanos(now);
        if (oldest > limit) {
            return "a request has been in flight for " + oldest / 1_000_000 + " ms";
        }
        long away = acceptorAwayNanos(now);
        if (away > limit) {
            return "its acceptor has not taken a connection for " + away / 1_000_000 + " ms";
        }
        return null;
    }

    /** @return how long the oldest request in flight has been running, or 0 */
    public long oldestRequestNanos(long now) {
        return inFlight.oldestNanos(now);
    }

    /** @return how long an accepting view's acceptor has been away from {@code accept()}, or 0 */
    public long acceptorAwayNanos(long now) {
        long away = 0;
        if (accepting) {
            for (ListenerView view : views) {
                away = Math.max(away, view.acceptorAwayNanos(now));
            }
        }
        return away;
    }

    /** @return whether any of the app's listeners is bound */
    public boolean isListening() {
        for (ListenerView view : views) {
            if (view.isOpen()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "Isolate[" + id + "]";
    }

    /** Builds an isolate; {@link #build()} creates its loader but runs nothing. */
    public static final class Builder {
        private String id;
        private Worker.Mode mode = Worker.Mode.ISOLATE;
        private AppJar app;
        private IsolateHost host;
        private ClassLoader hostLoader = Isolate.class.getClassLoader();
        private CallSiteRewriter rewriter;
        private boolean accepting = true;
        private java.util.Map<String, String> environment;
        private int inboxCapacity = 1024;
        private boolean inboxBlocks = true;

        private Builder() {
        }

        /**
         * The whole environment the app sees through {@code System.getenv()} and
         * {@code System.getenv(name)} (default: the JVM's own).
         *
         * @param environment the variables
         * @return this
         */
        public Builder environment(java.util.Map<String, String> environment) {
            this.environment = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(environment));
            return this;
        }

        /**
         * The copy's message inbox.
         *
         * @param capacity      messages it holds at most
         * @param blockWhenFull whether a sender waits for room (true) or the message is dropped and counted
         * @return this
         */
        public Builder inbox(int capacity, boolean blockWhenFull) {
            if (capacity < 1) {
                throw new IllegalArgumentException("inbox capacity must be at least 1");
            }
            this.inboxCapacity = capacity;
            this.inboxBlocks = blockWhenFull;
            return this;
        }

        /** @param id the isolate's id @return this */
        public Builder id(String id) {
            this.id = id;
            return this;
        }

        /** @param mode how this copy runs @return this */
        public Builder mode(Worker.Mode mode) {
            this.mode = mode;
            return this;
        }

        /** @param app the app @return this */
        public Builder app(AppJar app) {
            this.app = app;
            return this;
        }

        /** @param host the host @return this */
        public Builder host(IsolateHost host) {
            this.host = host;
            return this;
        }

        /** @param rewriter the call-site rewriter, shared by isolates @return this */
        public Builder rewriter(CallSiteRewriter rewriter) {
            this.rewriter = rewriter;
            return this;
        }

        /** @param accepting whether its views take connections from the start (false for a standby) @return this */
        public Builder accepting(boolean accepting) {
            this.accepting = accepting;
            return this;
        }

        /** @return the isolate */
        public Isolate build() {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(app, "app");
            Objects.requireNonNull(host, "host");
            if (rewriter == null) {
                rewriter = new CallSiteRewriter();
            }
            return new Isolate(this);
        }
    }
}
