package dev.forkless.isolate;

import java.net.URLStreamHandler;
import java.util.Set;

/**
 * What the rewritten JDK methods ({@code Runtime.exit/halt}, {@code URL.getURLStreamHandler}) do for
 * the isolates: the hooks of the {@link JvmBridge}, installed by {@link ForklessAgent}.
 */
final class JvmHooks {

    /** Protocols the JDK handles itself and a copy rarely overrides: no stack walk to find their copy. */
    private static final Set<String> BUILT_IN = Set.of("jar", "http", "https", "ftp", "mailto");
    /** A lookup of a copy's handler in progress on this thread (loading the handler may make URLs). */
    private static final ThreadLocal<Boolean> LOOKING_UP = new ThreadLocal<>();

    private JvmHooks() {
    }

    /** Defines the bridge the JDK methods call, with these hooks. */
    static void install() throws ReflectiveOperationException {
        JvmHooks hooks = new JvmHooks();
        JvmBridge.define(status -> hooks.exit(status, false), status -> hooks.exit(status, true), hooks::urlHandler,
                hooks::systemClassLoader);
    }

    /**
     * {@code Runtime.exit} or {@code Runtime.halt} was called: when the call belongs to an isolate, end
     * that copy alone (this never returns); else return, and the JVM exits.
     */
    void exit(int status, boolean halt) {
        Isolate isolate = Callers.isolate();
        if (isolate != null) {
            isolate.exit(status, halt); // ends the copy alone; does not return
        }
    }

    /**
     * {@code ClassLoader.getSystemClassLoader()} where JDK code the agent rewrites calls it for a copy
     * ({@code java.util.logging.LogManager} loading the handlers an app's logging configuration names):
     * the copy's loader, or {@code null} for the JVM's.
     */
    ClassLoader systemClassLoader() {
        Isolate isolate = Callers.isolate();
        return isolate == null ? null : isolate.loader();
    }

    /** {@code URL.getURLStreamHandler(protocol)}: the calling copy's handler, or {@code null} for the JDK's lookup. */
    URLStreamHandler urlHandler(String protocol) {
        if (protocol.equals("file") || protocol.equals("jrt") || LOOKING_UP.get() != null) {
            return null; // the JDK never lets these be overridden
        }
        LOOKING_UP.set(Boolean.TRUE);
        try {
            Isolate isolate = Isolate.of(Thread.currentThread());
            if (isolate == null && !BUILT_IN.contains(protocol)) {
                isolate = Callers.isolate();
            }
            return isolate == null ? null : isolate.urlHandlers().handler(protocol);
        } finally {
            LOOKING_UP.remove();
        }
    }
}
