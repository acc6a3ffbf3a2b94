package dev.forkless.isolate;

import dev.forkless.api.Worker;
import dev.forkless.api.spi.CopyContext;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Modifier;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
 * to reach zero or for its drain timeout, then {@link #unload}. A copy runs as long as a JVM would: after
 * {@code main} returns, while a non-daemon thread of it is alive. A draining copy's Helidon has its adapter;
 * Tomcat, Jetty and the JDK HttpServer get keep-alive turned off ({@link KeepAliveOff}); a copy running
 * none of these runs its shutdown hooks when its drain begins, as a JVM does on SIGTERM.
 */
public final class Isolate implements CopyContext {

    private final String id;
    private static final System.Logger LOG = System.getLogger("forkless.isolate");
    private final Worker.Mode mode;
    private final AppJar app;
    private final IsolateHost host;
    private final IsolateThreadGroup threads;
    private final Set<ListenerView> views = new CopyOnWriteArraySet<>();
    private final Set<Thread> shutdownHooks = new LinkedHashSet<>();
    /** Hooks started when the drain began; guarded by {@link #shutdownHooks}. */
    private final List<Thread> runningHooks = new ArrayList<>();
    /** Whether the hooks have been started; guarded by {@link #shutdownHooks}. */
    private boolean hooksStarted;
    private final Set<Thread> exiting = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final LongAdder requests = new LongAdder();
    private final LongAdder accepted = new LongAdder();
    /** Requests being handled, by the thread handling each, with their start (System.nanoTime). */
    private final RequestClock inFlight = new RequestClock();
    private final AtomicBoolean readyReported = new AtomicBoolean();
    private final AtomicBoolean endReported = new AtomicBoolean();
    private final AtomicBoolean outOfMemoryReported = new AtomicBoolean();
    private final Cancellation cancellation = new Cancellation(this);
    private final Object unloadLock = new Object();
    private volatile IsolateClassLoader loader;
    private volatile boolean accepting;
    /** What a standby requests of itself once its acceptor runs; null: nothing. */
    private final String warmUpPath;
    private final AtomicBoolean warmingUp = new AtomicBoolean();
    private volatile boolean draining;
    private volatile boolean unloaded;
    private volatile boolean halted;
    private volatile boolean drainAdapter;
    private volatile Thread.UncaughtExceptionHandler defaultHandler;
    private final IsolateConsole console = new IsolateConsole();
    /** The copy's system properties: the JVM's as they were when it was built, then its own changes. */
    private volatile java.util.Properties properties;
    private volatile java.io.ObjectInputFilter serialFilter;
    /** What {@code System.getenv} answers: replaced whole by {@link #putEnvironment}, never changed in place. */
    private volatile java.util.Map<String, String> environment;
    private final IsolateInbox inbox;
    private final ListenerOwner listenerOwner = new Listeners();
    private final IsolateUrlHandlers urlHandlers = new IsolateUrlHandlers(this);
    private final IsolateFileSystems fileSystems = new IsolateFileSystems();

    private Isolate(Builder builder) {
        this.environment = builder.environment;
        this.id = builder.id;
        this.mode = builder.mode;
        this.app = builder.app;
        this.host = builder.host;
        this.accepting = builder.accepting;
        this.warmUpPath = builder.warmUpPath;
        this.threads = new IsolateThreadGroup(this);
        this.properties = CopyDefaults.apply(copyOf(System.getProperties()));
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
     * @return its isolate, or {@code null} when neither an isolate's loader nor a loader below one (a
     *         loader the app made, such as Spring Boot's launcher's) defined it
     */
    public static Isolate of(Class<?> type) {
        return type == null ? null : of(type.getClassLoader());
    }

    /** @return the isolate whose loader is {@code loader} or one of its ancestors, or {@code null} */
    static Isolate of(ClassLoader loader) {
        for (ClassLoader l = loader; l != null; l = l.getParent()) {
            if (l instanceof IsolateClassLoader isolateLoader) {
                return isolateLoader.isolate();
            }
        }
        return null;
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
        return of(thread.getContextClassLoader());
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
        // non-daemon, as a JVM's main thread: the threads the app starts inherit it, whatever thread of
        // the host (often a daemon) starts the copy
        Thread thread = Thread.ofPlatform()
                .group(threads)
                .daemon(false)
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
        // As the JVM's DestroyJavaVM thread does: the app runs on while it has a live non-daemon thread
        // (a server's acceptor, say), and has ended, with status 0, once the last one ends.
        if (awaitNonDaemonThreads()) {
            reportExit(0);
        }
    }

    /**
     * Waits, on the thread whose {@code main} returned, until no other non-daemon thread of the copy is
     * alive. Virtual threads are daemon threads, as in any JVM.
     *
     * @return true when the last one ended; false when the copy was unloaded first (its threads are
     * interrupted then)
     */
    private boolean awaitNonDaemonThreads() {
        Thread self = Thread.currentThread();
        ClassLoader own = loader;
        try {
            while (!unloaded && own != null) {
                Thread other = null;
                for (Thread t : IsolateCleaner.threadsOf(threads, own)) {
                    if (t != self && !t.isDaemon() && !exiting.contains(t)) {
                        other = t;
                        break;
                    }
                }
                if (other == null) {
                    return !unloaded;
                }
                other.join();
            }
        } catch (InterruptedException unloading) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    // ---- what the app's calls reach, through the rewritten call sites ----

    ListenerView openListener(SelectorProvider provider) {
        return new ListenerView(listenerOwner, provider);
    }

    /** @return the copy's listener view on {@code address}, or {@code null} ({@link OwnConnections}) */
    ListenerView ownListener(java.net.SocketAddress address) {
        return OwnConnections.listening(views, address);
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
            if (warmUpPath != null && !accepting && !draining && warmingUp.compareAndSet(false, true)) {
                // a standby: it has never served, so it serves itself until it is promoted
                WarmUp.start(id, view, warmUpPath, () -> accepting || draining || unloaded, view.provider());
            }
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
            if (unloaded || hooksStarted) {
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
            if (hooksStarted) {
                throw new IllegalStateException("Shutdown in progress"); // as the JVM's, once its hooks run
            }
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

    /** @return the zip file systems the copy opened by URI */
    IsolateFileSystems fileSystems() {
        return fileSystems;
    }

    /** @return the URL protocol handlers the copy registered */
    IsolateUrlHandlers urlHandlers() {
        return urlHandlers;
    }

    /** @return the copy's system properties */
    public java.util.Properties properties() {
        return properties;
    }

    void setProperties(java.util.Properties props) {
        properties = props == null ? CopyDefaults.apply(copyOf(System.getProperties())) : props;
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
        java.util.Map<String, String> now = environment;
        return now == null ? System.getenv() : now;
    }

    /**
     * Sets one variable of the environment the app sees from now on (a standby that takes over a slot
     * learns its instance number so). Maps the app obtained before keep what they held.
     *
     * @param name  the variable
     * @param value its value
     */
    public synchronized void putEnvironment(String name, String value) {
        java.util.Map<String, String> next = new java.util.TreeMap<>(environment());
        next.put(java.util.Objects.requireNonNull(name, "name"), java.util.Objects.requireNonNull(value, "value"));
        environment = java.util.Collections.unmodifiableMap(next);
    }

    @Override
    public String getenv(String name) {
        return environment().get(name);
    }

    void setDefaultUncaughtExceptionHandler(Thread.UncaughtExceptionHandler handler) {
        this.defaultHandler = handler;
    }

    Thread.UncaughtExceptionHandler defaultUncaughtExceptionHandler() {
        return defaultHandler;
    }

    /** How often a crash report that failed for want of heap is tried again, and the pause before each try. */
    private static final int FULL_HEAP_RETRIES = 100;
    private static final long FULL_HEAP_PAUSE_NANOS = 50_000_000L;

    /**
     * An exception escaped one of this isolate's threads. When the heap is full (an {@code OutOfMemoryError}
     * ending this thread, or another copy's), reporting it may fail too, in a class loaded for the first
     * time on the way or an allocation; the report is tried again, {@link #FULL_HEAP_RETRIES} times at
     * most, pausing without allocating: a lost report would leave the copy, one thread short, to the watchdog.
     */
    void uncaught(Thread thread, Throwable cause) {
        for (int attempt = 0; ; attempt++) {
            try {
                uncaughtOnce(thread, cause);
                return;
            } catch (OutOfMemoryError full) {
                if (attempt >= FULL_HEAP_RETRIES) {
                    return;
                }
                LockSupport.parkNanos(FULL_HEAP_PAUSE_NANOS);
            }
        }
    }

    private void uncaughtOnce(Thread thread, Throwable cause) {
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

    /**
     * The app's code caught an {@code OutOfMemoryError} ({@link IsolateHooks#caught}): tell the host, once.
     * One that escapes a thread is a crash instead ({@link #uncaught}).
     */
    void outOfMemory(Thread thread, OutOfMemoryError error) {
        if (!unloaded && !endReported.get() && outOfMemoryReported.compareAndSet(false, true)) {
            try {
                host.outOfMemory(this, thread, error);
            } catch (Throwable lost) {
                outOfMemoryReported.set(false); // not reported: the copy's next caught error tells it again
                throw lost;
            }
        }
    }

    private void reportCrash(Thread thread, Throwable cause) {
        if (!unloaded && endReported.compareAndSet(false, true)) {
            try {
                host.crashed(this, thread, cause);
            } catch (OutOfMemoryError full) {
                endReported.set(false); // not reported: the caller tries again
                throw full;
            }
        }
    }

    private void reportExit(int status) {
        if (!unloaded && endReported.compareAndSet(false, true)) {
            host.exited(this, status);
        }
    }

    /** The app is ready: the first time, tell the host. */
    @Override
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
        if (drainAdapter) {
            return;
        }
        ClassLoader own = loader;
        List<String> servers = own == null ? List.of() : KeepAliveOff.nowAndSoon(
                () -> unloaded ? List.of() : IsolateCleaner.threadsOf(threads, own), () -> {
                    List<java.nio.channels.SocketChannel> open = new ArrayList<>();
                    views.forEach(v -> open.addAll(v.connections()));
                    return open;
                });
        if (servers.isEmpty()) {
            // No adapter ends this server's connections between requests: let it shut down the way it
            // would on SIGTERM (Spring Boot, Micronaut, Quarkus, Vert.x register JVM shutdown hooks, which
            // in an isolate are the copy's own): it stops accepting, finishes its requests in flight and
            // closes its idle connections while the runtime waits for them.
            startShutdownHooks();
        } else {
            // Tomcat, Jetty, the JDK HttpServer: each connection ends after its next response, which says
            // so; the app's shutdown hooks run at unload, once its connections have closed (Tomcat's own
            // graceful shutdown would close them after their current response without saying so)
            LOG.log(System.Logger.Level.DEBUG, () -> "isolate " + id + ": keep-alive off in " + servers);
        }
    }

    /** Starts the copy's shutdown hooks, once, unless it halted; {@link #unload} waits for them. */
    private void startShutdownHooks() {
        List<Thread> hooks;
        synchronized (shutdownHooks) {
            if (hooksStarted || halted || unloaded) {
                return;
            }
            hooksStarted = true;
            hooks = new ArrayList<>(shutdownHooks);
            shutdownHooks.clear();
            runningHooks.addAll(hooks);
        }
        ClassLoader own = loader;
        for (Thread hook : hooks) {
            hook.setContextClassLoader(own);
            hook.start();
        }
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
        List<Thread> started;
        synchronized (shutdownHooks) {
            unloaded = true;
            hooks = new ArrayList<>(shutdownHooks);
            shutdownHooks.clear();
            started = List.copyOf(runningHooks);
            runningHooks.clear();
        }
        exiting.forEach(LockSupport::unpark);
        long deadline = System.nanoTime() + grace.toNanos();
        // The app's own shutdown first (unless it ran from the drain's start): a Helidon server stops its
        // listeners itself. Closing a view under a running Helidon listener would make the listener stop
        // itself on its own thread, which never returns.
        if (!halted) {
            for (Thread hook : hooks) {
                hook.setContextClassLoader(loader);
                hook.start();
            }
            for (Thread hook : hooks) {
                joinUntil(hook, deadline);
            }
        }
        for (Thread hook : started) {
            joinUntil(hook, deadline);
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
        // the JUL handlers the copy left on JVM-wide loggers go before its token is cancelled: other copies'
        // log records run through them (Spring Boot's SLF4JBridgeHandler on the root logger, when its
        // shutdown hook did not get to remove it); they are closed once the threads stopped (closing
        // flushes, which may wait for the console, and the threads' grace runs meanwhile)
        List<java.util.logging.Handler> logHandlers = IsolateCleaner.detachLoggingHandlers(loader);
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
        IsolateCleaner.closeHandlers(logHandlers);
        IsolateCleaner.clearJvmWideReferences(loader);
        fileSystems.closeAll();
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
    @Override
    public boolean sendToHost(dev.forkless.api.Message message, boolean relay) {
        return !unloaded && host.message(this, message, relay);
    }

    @Override
    public void onMessage(java.util.function.Consumer<dev.forkless.api.Message> handler) {
        inbox.onMessage(handler);
    }

    @Override
    public String sharedValue(String key) {
        return inbox.get(key);
    }

    @Override
    public Map<String, String> sharedValues() {
        return inbox.all();
    }

    @Override
    public void onSharedChange(java.util.function.BiConsumer<String, String> listener) {
        inbox.onChange(listener);
    }

    /**
     * The app changes the shared state.
     *
     * @param key   the key
     * @param value the value, or {@code null} to remove it
     */
    @Override
    public void putShared(String key, String value) {
        host.putShared(this, key, value);
    }

    // ---- accessors ----

    /** @return the token the app's loops poll; cancelled at unload */
    public Cancellation cancellation() {
        return cancellation;
    }

    /** @return the isolate's id */
    @Override
    public String id() {
        return id;
    }

    /** @return how this copy runs */
    @Override
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
        inFlight.started(null);
    }

    /**
     * A request started on the calling thread, whose response may become a long-lived stream: called by
     * the web server adapter inside the isolate.
     *
     * @param responding says whether the response has started (headers sent, body streaming); asked by
     *                   the hang watchdog, from another thread, only about a request older than the hang
     *                   timeout
     */
    public void requestStarted(java.util.function.BooleanSupplier responding) {
        inFlight.started(responding);
    }

    /** The copy's web server adapter was set up: it counts requests and ends connections while draining. */
    public void drainAdapterInstalled() {
        drainAdapter = true;
    }

    /** @return whether a web server adapter of the copy handles its drain */
    public boolean hasDrainAdapter() {
        return drainAdapter;
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
        long oldest = inFlight.oldestWithoutResponseNanos(now, limit);
        if (oldest > limit) {
            return "a request has been in flight for " + oldest / 1_000_000 + " ms without starting its response";
        }
        long away = acceptorAwayNanos(now);
        if (away > limit) {
            return "its acceptor has not taken a connection for " + away / 1_000_000 + " ms";
        }
        return null;
    }

    /**
     * How long the oldest request in flight that has not started its response has been running: the
     * watchdog's measure. A request whose response streams (server-sent events, a long download) is left
     * out once it is older than {@code timeout}: its own writes are its progress.
     *
     * @param now     System.nanoTime()
     * @return nanoseconds, or 0
     */
    public long oldestRequestNanos(long now) {
        return inFlight.oldestWithoutResponseNanos(now, 0);
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
        private String warmUpPath;
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

        /**
         * @param path what a standby requests of itself once its acceptor runs ({@link WarmUp}); null: nothing
         * @return this
         */
        public Builder warmUp(String path) {
            this.warmUpPath = path;
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
