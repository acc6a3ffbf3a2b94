package dev.forkless.api;

import dev.forkless.api.spi.CopyContext;

/**
 * What a copy of an app may ask about itself. An app never has to use this class: it exists for apps
 * that want to log or report which copy answered.
 *
 * <p>Every method works whether the app runs as an isolate, as a child process of the runtime, or
 * alone ({@code java -jar app.jar}): alone, {@link #mode()} is {@link Mode#NONE} and {@link #id()} is
 * {@code "none"}.
 */
public final class Worker {

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private Worker() {
    }

    /**
     * The id of the copy the caller runs in, unique for the life of the runtime (ids of replaced copies
     * are never reused).
     *
     * @return the copy's id, or {@code "none"} when the app runs alone
     */
    public static String id() {
        if (ChildBridge.ACTIVE) {
            return ChildBridge.id();
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        return copy == null ? "none" : copy.id();
    }

    /**
     * How the caller's copy runs.
     *
     * @return the mode
     */
    public static Mode mode() {
        if (ChildBridge.ACTIVE) {
            return Mode.PROCESS;
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        return copy == null ? Mode.NONE : copy.mode();
    }

    /**
     * Tells the runtime that this copy is ready to serve, for apps whose readiness is more than having
     * started to accept connections. Without this call a copy is ready once it accepts on its listener.
     */
    public static void ready() {
        if (ChildBridge.ACTIVE) {
            ChildBridge.ready();
            return;
        }
        CopyContext copy = CopyContext.of(WALKER.getCallerClass());
        if (copy != null) {
            copy.signalReady();
        }
    }

    /** How a copy runs. */
    public enum Mode {
        /** One of several isolates in one JVM. */
        ISOLATE,
        /** A child JVM started by the runtime. */
        PROCESS,
        /** Alone, without Forkless. */
        NONE;

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
