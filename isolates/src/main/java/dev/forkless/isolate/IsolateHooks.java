package dev.forkless.isolate;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;

/**
 * The targets of the call sites {@link CallSiteRewriter} rewrites. Not for apps: each method takes the
 * calling class as its last argument and answers for that class's isolate. A caller outside any
 * isolate gets the JDK's own behaviour.
 */
public final class IsolateHooks {

    private IsolateHooks() {
    }

    /**
     * The isolate a rewritten call belongs to: the caller's (its loader is an isolate's loader or below
     * one), else the current thread's (a class of a loader the app made outside that descent).
     */
    private static Isolate owner(Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        return isolate != null ? isolate : Isolate.of(Thread.currentThread());
    }

    /** {@code FileSystems.newFileSystem(uri, env)}: a {@code jar:} file system of the copy's own. */
    public static java.nio.file.FileSystem newFileSystem(java.net.URI uri, java.util.Map<String, ?> env, Class<?> caller)
            throws IOException {
        return newFileSystem(uri, env, null, caller);
    }

    /** {@code FileSystems.newFileSystem(uri, env, loader)}: a {@code jar:} file system of the copy's own. */
    public static java.nio.file.FileSystem newFileSystem(java.net.URI uri, java.util.Map<String, ?> env, ClassLoader loader,
                                                         Class<?> caller) throws IOException {
        Isolate isolate = owner(caller);
        if (isolate == null || !IsolateFileSystems.isZip(uri)) {
            return java.nio.file.FileSystems.newFileSystem(uri, env, loader);
        }
        return isolate.fileSystems().newFileSystem(uri, env, loader);
    }

    /** {@code FileSystems.getFileSystem(uri)}: for {@code jar:}, the copy's own. */
    public static java.nio.file.FileSystem getFileSystem(java.net.URI uri, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null || !IsolateFileSystems.isZip(uri)) {
            return java.nio.file.FileSystems.getFileSystem(uri);
        }
        return isolate.fileSystems().getFileSystem(uri);
    }

    /** {@code Path.of(uri)} and {@code Paths.get(uri)}: for {@code jar:}, in the copy's own file system. */
    public static java.nio.file.Path pathOf(java.net.URI uri, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate != null && IsolateFileSystems.isZip(uri)) {
            java.nio.file.Path path = isolate.fileSystems().path(uri);
            if (path != null) {
                return path;
            }
        }
        return java.nio.file.Path.of(uri);
    }

    /** {@code ClassLoader.getSystemClassLoader()}: the copy's loader, as the app's own JVM would give its class path's. */
    public static ClassLoader getSystemClassLoader(Class<?> caller) {
        Isolate isolate = owner(caller);
        ClassLoader loader = isolate == null ? null : isolate.loader();
        return loader == null ? ClassLoader.getSystemClassLoader() : loader;
    }

    /** {@code ClassLoader.getSystemResource(name)}: from the copy's loader. */
    public static java.net.URL getSystemResource(String name, Class<?> caller) {
        return getSystemClassLoader(caller).getResource(name);
    }

    /** {@code ClassLoader.getSystemResources(name)}: from the copy's loader. */
    public static java.util.Enumeration<java.net.URL> getSystemResources(String name, Class<?> caller)
            throws IOException {
        return getSystemClassLoader(caller).getResources(name);
    }

    /** {@code ClassLoader.getSystemResourceAsStream(name)}: from the copy's loader. */
    public static java.io.InputStream getSystemResourceAsStream(String name, Class<?> caller) {
        return getSystemClassLoader(caller).getResourceAsStream(name);
    }

    /**
     * {@code URL.setURLStreamHandlerFactory(factory)}: the copy's own factory, once per copy; {@code null}
     * only clears the copy's cached handlers (what Spring Boot's launcher does).
     */
    public static void setURLStreamHandlerFactory(java.net.URLStreamHandlerFactory factory, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            java.net.URL.setURLStreamHandlerFactory(factory);
        } else {
            isolate.urlHandlers().setFactory(factory);
        }
    }

    /** {@code System.exit(status)}. */
    public static void exit(int status, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            System.exit(status);
        } else {
            isolate.exit(status, false);
        }
    }

    /**
     * {@code socket.connect(address, timeout)}: a connection to the copy's own listening address reaches
     * the copy itself, as in a JVM of its own, not the shared socket ({@link OwnConnections}).
     */
    public static void connectSocket(java.net.Socket socket, java.net.SocketAddress address, int timeout, Class<?> caller)
            throws IOException {
        Isolate isolate = owner(caller);
        ListenerView own = isolate == null ? null : isolate.ownListener(address);
        if (own == null) {
            socket.connect(address, timeout);
        } else {
            OwnConnections.connect(socket, own, timeout);
        }
    }

    /** {@code socket.connect(address)}: as {@link #connectSocket(java.net.Socket, java.net.SocketAddress, int, Class)}. */
    public static void connectSocket(java.net.Socket socket, java.net.SocketAddress address, Class<?> caller)
            throws IOException {
        connectSocket(socket, address, 0, caller);
    }

    /** {@code System.getenv(name)}: the isolate's own environment. */
    public static String getenv(String name, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            return System.getenv(name);
        }
        java.util.Objects.requireNonNull(name, "name");
        return isolate.environment().get(name);
    }

    /** {@code System.getenv()}: the isolate's own environment, unmodifiable. */
    public static java.util.Map<String, String> getenv(Class<?> caller) {
        Isolate isolate = owner(caller);
        return isolate == null ? System.getenv() : isolate.environment();
    }

    /** {@code Runtime.exit(status)}. */
    public static void runtimeExit(Runtime runtime, int status, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            runtime.exit(status);
        } else {
            isolate.exit(status, false);
        }
    }

    /** {@code Runtime.halt(status)}: ends the isolate without running its shutdown hooks. */
    public static void runtimeHalt(Runtime runtime, int status, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            runtime.halt(status);
        } else {
            isolate.exit(status, true);
        }
    }

    /** {@code Runtime.addShutdownHook(hook)}: the hook runs when the isolate is unloaded. */
    public static void addShutdownHook(Runtime runtime, Thread hook, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            runtime.addShutdownHook(hook);
        } else {
            isolate.addShutdownHook(hook);
        }
    }

    /** {@code Runtime.removeShutdownHook(hook)}. */
    public static boolean removeShutdownHook(Runtime runtime, Thread hook, Class<?> caller) {
        Isolate isolate = owner(caller);
        return isolate == null ? runtime.removeShutdownHook(hook) : isolate.removeShutdownHook(hook);
    }

    /** {@code ServerSocketChannel.open()}. */
    public static ServerSocketChannel openServerSocketChannel(Class<?> caller) throws IOException {
        return openServerSocketChannel(SelectorProvider.provider(), caller);
    }

    /** {@code ServerSocketChannel.open(family)}: Unix domain sockets are not shared. */
    public static ServerSocketChannel openServerSocketChannel(ProtocolFamily family, Class<?> caller)
            throws IOException {
        return openServerSocketChannel(SelectorProvider.provider(), family, caller);
    }

    /** {@code SelectorProvider.openServerSocketChannel()}. */
    public static ServerSocketChannel openServerSocketChannel(SelectorProvider provider, Class<?> caller)
            throws IOException {
        Isolate isolate = owner(caller);
        return isolate == null ? provider.openServerSocketChannel() : isolate.openListener(jdk(provider));
    }

    /** {@code SelectorProvider.openServerSocketChannel(family)}. */
    public static ServerSocketChannel openServerSocketChannel(SelectorProvider provider, ProtocolFamily family,
                                                              Class<?> caller) throws IOException {
        Isolate isolate = owner(caller);
        if (isolate == null || family == StandardProtocolFamily.UNIX) {
            return provider.openServerSocketChannel(family);
        }
        return isolate.openListener(jdk(provider));
    }

    /** The JDK's own provider under the agent's ({@link ForklessSelectorProvider}), else the provider itself. */
    private static SelectorProvider jdk(SelectorProvider provider) {
        return provider instanceof ForklessSelectorProvider forkless ? forkless.jdk() : provider;
    }

    /**
     * Bootstrap of the dynamic constant the rewriter's loop checks load: the calling class's isolate's
     * {@link Cancellation}.
     */
    public static Cancellation cancellation(java.lang.invoke.MethodHandles.Lookup lookup, String name, Class<?> type) {
        Isolate isolate = Isolate.of(lookup.lookupClass());
        return isolate == null ? NEVER : isolate.cancellation();
    }

    /** The loop check of classes too old for dynamic constants (class files before Java 11). */
    public static void poll(Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate != null) {
            isolate.cancellation().poll();
        }
    }

    /**
     * Runs first in each handler of app code that catches {@code Throwable}, {@code Error},
     * {@code VirtualMachineError} or {@code OutOfMemoryError}: an {@code OutOfMemoryError} caught there
     * is told to the caller's isolate, whose host replaces it (a framework that catches everything in its
     * request loop would go on with a broken copy). The JVM throws its own errors without a constructor
     * call, so the catch site is where they can be seen. Allocates nothing on the way and never throws:
     * the app's handler must still run.
     *
     * @param thrown what the handler caught; left to it
     * @param caller the class whose handler it is
     */
    public static void caught(Throwable thrown, Class<?> caller) {
        if (thrown instanceof OutOfMemoryError error) {
            try {
                Isolate isolate = owner(caller);
                if (isolate != null) {
                    isolate.outOfMemory(Thread.currentThread(), error);
                }
            } catch (Throwable ignored) {
                // the heap may still be full: the app's handler comes first
            }
        }
    }

    /** The token of code that runs in no isolate: never cancelled. */
    private static final Cancellation NEVER = new Cancellation(null);

    /** {@code System.setOut(out)}: the copy's own standard output from now on. */
    public static void setOut(java.io.PrintStream out, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            System.setOut(out);
        } else {
            isolate.console().setOut(out);
        }
    }

    /** {@code System.setErr(err)}: the copy's own standard error from now on. */
    public static void setErr(java.io.PrintStream err, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            System.setErr(err);
        } else {
            isolate.console().setErr(err);
        }
    }

    private static java.util.Properties properties(Class<?> caller) {
        Isolate isolate = owner(caller);
        return isolate == null ? System.getProperties() : isolate.properties();
    }

    /** {@code System.getProperty(key)}: the copy's own properties. */
    public static String getProperty(String key, Class<?> caller) {
        checkKey(key);
        return properties(caller).getProperty(key);
    }

    /** {@code System.getProperty(key, def)}. */
    public static String getProperty(String key, String def, Class<?> caller) {
        checkKey(key);
        return properties(caller).getProperty(key, def);
    }

    /** {@code System.setProperty(key, value)}: changes the copy's properties only. */
    public static String setProperty(String key, String value, Class<?> caller) {
        checkKey(key);
        java.util.Objects.requireNonNull(value, "value");
        return (String) properties(caller).setProperty(key, value);
    }

    /** {@code System.clearProperty(key)}. */
    public static String clearProperty(String key, Class<?> caller) {
        checkKey(key);
        return (String) properties(caller).remove(key);
    }

    /** {@code System.getProperties()}: the copy's own properties object. */
    public static java.util.Properties getProperties(Class<?> caller) {
        return properties(caller);
    }

    /** {@code System.setProperties(props)}. */
    public static void setProperties(java.util.Properties props, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            System.setProperties(props);
        } else {
            isolate.setProperties(props);
        }
    }

    /** {@code Boolean.getBoolean(name)}, reading the copy's properties. */
    public static boolean getBoolean(String name, Class<?> caller) {
        try {
            return Boolean.parseBoolean(properties(caller).getProperty(name));
        } catch (IllegalArgumentException | NullPointerException e) {
            return false;
        }
    }

    /** {@code Integer.getInteger(name)}. */
    public static Integer getInteger(String name, Class<?> caller) {
        return getInteger(name, null, caller);
    }

    /** {@code Integer.getInteger(name, def)}. */
    public static Integer getInteger(String name, int def, Class<?> caller) {
        Integer value = getInteger(name, null, caller);
        return value == null ? Integer.valueOf(def) : value;
    }

    private static Integer getInteger(String name, Integer def, Class<?> caller) {
        String v = name == null || name.isEmpty() ? null : properties(caller).getProperty(name);
        if (v != null) {
            try {
                return Integer.decode(v);
            } catch (NumberFormatException ignored) {
                // as the JDK: the default
            }
        }
        return def;
    }

    /** {@code Long.getLong(name)}. */
    public static Long getLong(String name, Class<?> caller) {
        String v = name == null || name.isEmpty() ? null : properties(caller).getProperty(name);
        if (v != null) {
            try {
                return Long.decode(v);
            } catch (NumberFormatException ignored) {
                // as the JDK: null
            }
        }
        return null;
    }

    /** {@code Long.getLong(name, def)}. */
    public static Long getLong(String name, long def, Class<?> caller) {
        Long value = getLong(name, caller);
        return value == null ? Long.valueOf(def) : value;
    }

    private static void checkKey(String key) {
        if (key == null) {
            throw new NullPointerException("key can't be null");
        }
        if (key.isEmpty()) {
            throw new IllegalArgumentException("key can't be empty");
        }
    }

    /** {@code ObjectInputFilter.Config.setSerialFilter(filter)}: the copy's own filter, set once. */
    public static void setSerialFilter(java.io.ObjectInputFilter filter, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            java.io.ObjectInputFilter.Config.setSerialFilter(filter);
        } else {
            isolate.setSerialFilter(filter);
        }
    }

    /** {@code ObjectInputFilter.Config.getSerialFilter()}. */
    public static java.io.ObjectInputFilter getSerialFilter(Class<?> caller) {
        Isolate isolate = owner(caller);
        return isolate == null ? java.io.ObjectInputFilter.Config.getSerialFilter() : isolate.serialFilter();
    }

    /** {@code Thread.setDefaultUncaughtExceptionHandler(handler)}: one handler per isolate. */
    public static void setDefaultUncaughtExceptionHandler(Thread.UncaughtExceptionHandler handler, Class<?> caller) {
        Isolate isolate = owner(caller);
        if (isolate == null) {
            Thread.setDefaultUncaughtExceptionHandler(handler);
        } else {
            isolate.setDefaultUncaughtExceptionHandler(handler);
        }
    }

    /** {@code Thread.getDefaultUncaughtExceptionHandler()}. */
    public static Thread.UncaughtExceptionHandler getDefaultUncaughtExceptionHandler(Class<?> caller) {
        Isolate isolate = owner(caller);
        return isolate == null ? Thread.getDefaultUncaughtExceptionHandler() : isolate.defaultUncaughtExceptionHandler();
    }
}
