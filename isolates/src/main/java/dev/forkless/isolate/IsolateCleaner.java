package dev.forkless.isolate;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.lang.ref.SoftReference;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * Removes what an unloaded isolate leaves behind in the JVM, as Tomcat does for an undeployed web app:
 * its threads (interrupted; {@link java.util.Timer} threads, which ignore interrupts, cancelled), and
 * JDK-wide registrations that would keep its class loader reachable.
 */
final class IsolateCleaner {

    private static final System.Logger LOG = System.getLogger("forkless.isolate");

    private IsolateCleaner() {
    }

    /**
     * Stops the isolate's platform threads, waiting until the deadline.
     *
     * @return the names of the threads still alive at the deadline
     */
    static List<String> stopThreads(IsolateThreadGroup group, ClassLoader loader, long deadline) {
        Thread self = Thread.currentThread();
        List<Thread> live = threadsOf(group, loader);
        stopJdkHttpServers(live);
        shutDownPools(live, loader);
        for (Thread thread : live) {
            if (thread == self) {
                continue;
            }
            if (thread.getClass().getName().equals("java.util.TimerThread")) {
                cancelTimer(thread);
            }
            thread.interrupt();
        }
        List<String> leftover = new ArrayList<>();
        for (Thread thread : live) {
            if (thread == self) {
                continue;
            }
            long remaining = deadline - System.nanoTime();
            try {
                if (remaining > 0) {
                    thread.join(Duration.ofNanos(remaining));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                leftover.add(thread.getName());
            }
        }
        return Collections.unmodifiableList(leftover);
    }

    /**
     * The isolate's live platform threads: those in its group, and those outside it that run with its
     * loader (a platform thread started from a virtual thread joins no group of the isolate's, for
     * instance Helidon's {@code helidon-http-timer}).
     */
    static List<Thread> threadsOf(IsolateThreadGroup group, ClassLoader loader) {
        ThreadGroup root = group;
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] all = new Thread[root.activeCount() + 32];
        int n = root.enumerate(all, true);
        List<Thread> found = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread t = all[i];
            if (t.isAlive() && (t.getThreadGroup() == group || t.getContextClassLoader() == loader)) {
                found.add(t);
            }
        }
        return found;
    }

    /**
     * Stops the JDK HttpServers ({@code com.sun.net.httpserver}) of the copy, as {@code HttpServer.stop(0)}
     * would: their dispatcher thread ignores interrupts (it would go on selecting, at full speed once its
     * interrupt status is set), and an app's {@code main} usually returns right after {@code start()},
     * leaving no other way to reach the server. Needs {@code --add-opens java.base/java.lang} and
     * {@code --add-opens jdk.httpserver/sun.net.httpserver} (the runtime jar's manifest has both).
     */
    private static void stopJdkHttpServers(List<Thread> live) {
        for (Thread thread : live) {
            if (!thread.getName().startsWith("HTTP-Dispatcher")) {
                continue;
            }
            try {
                Object task = taskOf(thread);
                if (task == null || !task.getClass().getName().equals("sun.net.httpserver.ServerImpl$Dispatcher")) {
                    continue;
                }
                Field outer = task.getClass().getDeclaredField("this$0");
                outer.setAccessible(true);
                Object server = outer.get(task);
                Method stop = server.getClass().getMethod("stop", int.class);
                stop.setAccessible(true);
                stop.invoke(server, 0);
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, () -> "cannot stop the JDK HttpServer of thread " + thread.getName()
                        + " (start the JVM with --add-opens java.base/java.lang=ALL-UNNAMED"
                        + " --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED): " + e);
            }
        }
    }

    /**
     * Shuts down the thread pools whose workers are among the copy's threads, as {@code shutdownNow()}
     * would: an idle worker of a {@code ThreadPoolExecutor} ignores an interrupt (it polls its queue again),
     * so a pool nobody shut down (Jetty's scheduler when Javalin is never stopped, the cached pool a JDK
     * HttpServer app gives its server) kept its threads, and its copy's classes, for the pool's keep-alive
     * or for good. A pool counts as the copy's when its thread factory is the JDK's default one or a class
     * of the copy's: a JVM-wide pool of the JDK's own whose thread a copy happened to start (the
     * {@code CompletableFuture} delay scheduler, made by a factory of its own) is left alone, and so is the
     * common pool. Needs {@code --add-opens java.base/java.lang} and {@code java.base/java.util.concurrent}.
     */
    private static void shutDownPools(List<Thread> live, ClassLoader loader) {
        java.util.Set<java.util.concurrent.ExecutorService> pools =
                java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Thread thread : live) {
            try {
                if (thread instanceof java.util.concurrent.ForkJoinWorkerThread worker) {
                    java.util.concurrent.ForkJoinPool pool = worker.getPool();
                    if (pool != java.util.concurrent.ForkJoinPool.commonPool()
                            && copysFactory(pool.getFactory().getClass(), loader)) {
                        pools.add(pool);
                    }
                    continue;
                }
                Object task = poolWorker(taskOf(thread));
                if (task != null) {
                    Field outer = task.getClass().getDeclaredField("this$0");
                    outer.setAccessible(true);
                    if (outer.get(task) instanceof java.util.concurrent.ThreadPoolExecutor pool
                            && copysFactory(pool.getThreadFactory().getClass(), loader)) {
                        pools.add(pool);
                    }
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "cannot find the pool of thread " + thread.getName()
                        + " (start the JVM with --add-opens java.base/java.util.concurrent=ALL-UNNAMED): " + e);
            }
        }
        for (java.util.concurrent.ExecutorService pool : pools) {
            try {
                pool.shutdownNow(); // a subclass's own code may run, and meet its cancelled loop checks
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "cannot shut down a pool of an unloaded copy: " + e);
            }
        }
    }

    private static final String POOL_WORKER = "java.util.concurrent.ThreadPoolExecutor$Worker";

    /**
     * @return the pool worker a thread runs: its task, or what the task wraps (Tomcat's {@code TaskThread}
     *         runs a {@code WrappingRunnable} around it), else {@code null}
     */
    private static Object poolWorker(Object task) {
        if (task == null || task.getClass().getName().equals(POOL_WORKER)) {
            return task;
        }
        for (Field field : task.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(field.getModifiers()) || !Runnable.class.isAssignableFrom(field.getType())) {
                continue;
            }
            try {
                field.setAccessible(true);
                Object wrapped = field.get(task);
                if (wrapped != null && wrapped.getClass().getName().equals(POOL_WORKER)) {
                    return wrapped;
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                // not readable: not a wrapper this knows
            }
        }
        return null;
    }

    private static boolean copysFactory(Class<?> factory, ClassLoader loader) {
        String name = factory.getName();
        return name.equals("java.util.concurrent.Executors$DefaultThreadFactory")
                || name.equals("java.util.concurrent.ForkJoinPool$DefaultForkJoinWorkerThreadFactory")
                || definedAtOrBelow(factory, loader);
    }

    /** @return the {@code Runnable} a platform thread was started with, or {@code null} */
    private static Object taskOf(Thread thread) throws ReflectiveOperationException {
        Field holderField = Thread.class.getDeclaredField("holder");
        holderField.setAccessible(true);
        Object holder = holderField.get(thread);
        if (holder == null) {
            return null;
        }
        Field taskField = holder.getClass().getDeclaredField("task");
        taskField.setAccessible(true);
        return taskField.get(holder);
    }

    /** Cancels a {@code java.util.Timer} from its thread, as {@code Timer.cancel()} would. */
    private static void cancelTimer(Thread timerThread) {
        try {
            Field mayBeScheduled = timerThread.getClass().getDeclaredField("newTasksMayBeScheduled");
            mayBeScheduled.setAccessible(true);
            Field queueField = timerThread.getClass().getDeclaredField("queue");
            queueField.setAccessible(true);
            Object queue = queueField.get(timerThread);
            Method clear = queue.getClass().getDeclaredMethod("clear");
            clear.setAccessible(true);
            synchronized (queue) {
                mayBeScheduled.setBoolean(timerThread, false);
                clear.invoke(queue);
                queue.notifyAll();
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot cancel timer thread " + timerThread.getName()
                    + " (start the JVM with --add-opens java.base/java.util=ALL-UNNAMED): " + e);
        }
    }

    /** Removes what the isolate left in JVM-wide places: its JUL handlers and filters, JDK method handle caches. */
    static void clearJvmWideReferences(ClassLoader loader) {
        clearLoggingHandlers(loader);
        clearRecordMethodCaches(loader);
    }

    /**
     * Clears the {@code asType} caches of the JDK's shared record method handles.
     *
     * <p>The {@code equals}/{@code hashCode}/{@code toString} of every record the app defines are built by
     * {@code java.lang.runtime.ObjectMethods} from a few static method handles of its own
     * ({@code Objects::hashCode}, {@code Objects::equals}, ...), adapted with {@code asType} to the
     * record's component types. Each handle remembers its last adaptation to a type of another loader in a
     * {@code SoftReference} ({@code MethodHandle.asTypeSoftCache}), so after Helidon's records ran, for
     * instance, {@code OBJECTS_HASHCODE} keeps a handle typed {@code (io.helidon.common.types.TypeName)int},
     * and through that class the isolate's loader. A soft reference is only cleared under memory
     * pressure, so the loader would stay until the heap runs low. Clearing a cache entry is harmless: the
     * next {@code asType} computes it again. Needs {@code --add-opens java.base/java.lang.runtime} and
     * {@code --add-opens java.base/java.lang.invoke}.
     */
    private static void clearRecordMethodCaches(ClassLoader loader) {
        try {
            Field softCache = MethodHandle.class.getDeclaredField("asTypeSoftCache");
            softCache.setAccessible(true);
            Class<?> objectMethods = Class.forName("java.lang.runtime.ObjectMethods");
            for (Field field : objectMethods.getDeclaredFields()) {
                if (!Modifier.isStatic(field.getModifiers())) {
                    continue;
                }
                field.setAccessible(true);
                Object value = field.get(null);
                if (value instanceof MethodHandle handle) {
                    clearSoftAsTypeCache(handle, softCache, loader);
                } else if (value instanceof Map<?, ?> map) {
                    // primitiveEquals, primitiveHashers, primitiveToString: class -> method handle
                    for (Object v : map.values()) {
                        if (v instanceof MethodHandle handle) {
                            clearSoftAsTypeCache(handle, softCache, loader);
                        }
                    }
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot clear the record method handle caches (start the JVM"
                    + " with --add-opens java.base/java.lang.invoke=ALL-UNNAMED"
                    + " --add-opens java.base/java.lang.runtime=ALL-UNNAMED): " + e);
        }
    }

    /** Clears a method handle's soft {@code asType} cache when the cached handle's type names a class of the loader. */
    private static void clearSoftAsTypeCache(MethodHandle handle, Field softCache, ClassLoader loader)
            throws IllegalAccessException {
        if (softCache.get(handle) instanceof SoftReference<?> ref
                && ref.get() instanceof MethodHandle cached && mentions(cached.type(), loader)) {
            ref.clear();
        }
    }

    private static boolean mentions(MethodType type, ClassLoader loader) {
        if (definedBy(elementType(type.returnType()), loader)) {
            return true;
        }
        for (Class<?> parameter : type.parameterArray()) {
            if (definedBy(elementType(parameter), loader)) {
                return true;
            }
        }
        return false;
    }

    private static Class<?> elementType(Class<?> type) {
        Class<?> element = type;
        while (element.isArray()) {
            element = element.componentType();
        }
        return element;
    }

    /** Removes the isolate's logging handlers and filters from every JUL logger, and closes the handlers. */
    private static void clearLoggingHandlers(ClassLoader loader) {
        closeHandlers(detachLoggingHandlers(loader));
    }

    /**
     * Removes the isolate's logging handlers and filters from every JUL logger, without closing the handlers
     * (closing flushes, which may wait for the console): those whose class its loader defined, or a loader
     * below it (Spring Boot's launcher defines the app's classes, its {@code SLF4JBridgeHandler} included).
     * Left on the JVM's root logger, an unloaded copy's handler would run for every other copy's log record.
     *
     * @return the handlers removed, for {@link #closeHandlers}
     */
    static List<Handler> detachLoggingHandlers(ClassLoader loader) {
        List<Handler> detached = new ArrayList<>();
        LogManager manager = LogManager.getLogManager();
        for (String name : Collections.list(manager.getLoggerNames())) {
            Logger logger = manager.getLogger(name);
            if (logger == null) {
                continue;
            }
            for (Handler handler : logger.getHandlers()) {
                if (definedAtOrBelow(handler.getClass(), loader)
                        || (handler.getFormatter() != null && definedAtOrBelow(handler.getFormatter().getClass(), loader))
                        || (handler.getFilter() != null && definedAtOrBelow(handler.getFilter().getClass(), loader))) {
                    logger.removeHandler(handler);
                    detached.add(handler);
                }
            }
            if (logger.getFilter() != null && definedAtOrBelow(logger.getFilter().getClass(), loader)) {
                logger.setFilter(null);
            }
        }
        return detached;
    }

    /** Closes handlers a gone copy left, each at most once. */
    static void closeHandlers(List<Handler> handlers) {
        for (Handler handler : new java.util.LinkedHashSet<>(handlers)) {
            try {
                handler.close();
            } catch (RuntimeException | LinkageError | Cancellation.IsolateCancelled ignored) {
                // the handler belonged to an app that is gone (its loader closed, its loops cancelled)
            }
        }
    }

    private static boolean definedBy(Class<?> type, ClassLoader loader) {
        return type.getClassLoader() == loader;
    }

    /** Whether {@code loader} or a loader below it (one whose parent chain reaches it) defined {@code type}. */
    static boolean definedAtOrBelow(Class<?> type, ClassLoader loader) {
        for (ClassLoader l = type.getClassLoader(); l != null; l = l.getParent()) {
            if (l == loader) {
                return true;
            }
        }
        return false;
    }
}
