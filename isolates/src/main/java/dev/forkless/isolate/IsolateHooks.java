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

    /** {@code System.exit(status)}. */
    public static void exit(int status, Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        if (isolate == null) {
            System.exit(status);
        } else {
            isolate.exit(status, false);
        }
    }

    /** {@code System.getenv(name)}: the isolate's own environment. */
    public static String getenv(String name, Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        if (isolate == null) {
            return System.getenv(name);
        }
        java.util.Objects.requireNonNull(name, "name");
        return isolate.environment().get(name);
    }

    /** {@code System.getenv()}: the isolate's own environment, unmodifiable. */
    public static java.util.Map<String, String> getenv(Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        return isolate == null ? System.getenv() : isolate.environment();
    }

    /** {@code Runtime.exit(status)}. */
    public static void runtimeExit(Runtime runtime, int status, Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        if (isolate == null) {
            runtime.exit(status);
        } else {
            isolate.exit(status, false);
        }
    }

    /** {@code Runtime.halt(status)}: ends the isolate without running its shutdown hooks. */
    public static void runtimeHalt(Runtime runtime, int status, Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        if (isolate == null) {
            runtime.halt(status);
        } else {
            isolate.exit(status, true);
        }
    }

    /** {@code Runtime.addShutdownHook(hook)}: the hook runs when the isolate is unloaded. */
    public static void addShutdownHook(Runtime runtime, Thread hook, Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        if (isolate == null) {
            runtime.addShutdownHook(hook);
        } else {
            isolate.addShutdownHook(hook);
        }
    }

    /** {@code Runtime.removeShutdownHook(hook)}. */
    public static boolean removeShutdownHook(Runtime runtime, Thread hook, Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
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
        Isolate isolate = Isolate.of(caller);
        return isolate == null ? provider.openServerSocketChannel() : isolate.openListener(provider);
    }

    /** {@code SelectorProvider.openServerSocketChannel(family)}. */
    public static ServerSocketChannel openServerSocketChannel(SelectorProvider provider, ProtocolFamily family,
                                                              Class<?> caller) throws IOException {
        Isolate isolate = Isolate.of(caller);
        if (isolate == null || family == StandardProtocolFamily.UNIX) {
            return provider.openServerSocketChannel(family);
        }
        return isolate.openListener(provider);
    }

    /** {@code Thread.setDefaultUncaughtExceptionHandler(handler)}: one handler per isolate. */
    public static void setDefaultUncaughtExceptionHandler(Thread.UncaughtExceptionHandler handler, Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        if (isolate == null) {
            Thread.setDefaultUncaughtExceptionHandler(handler);
        } else {
            isolate.setDefaultUncaughtExceptionHandler(handler);
        }
    }

    /** {@code Thread.getDefaultUncaughtExceptionHandler()}. */
    public static Thread.UncaughtExceptionHandler getDefaultUncaughtExceptionHandler(Class<?> caller) {
        Isolate isolate = Isolate.of(caller);
        return isolate == null ? Thread.getDefaultUncaughtExceptionHandler() : isolate.defaultUncaughtExceptionHandler();
    }
}
