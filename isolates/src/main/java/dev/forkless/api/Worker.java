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
     * The instance number of the caller's copy: its slot's number {@code 0..n-1} among the app's serving
     * copies, kept by every copy that replaces it (a crash restart, a reload, a standby promoted into the
     * slot), as PM2's {@code NODE_APP_INSTANCE}. Scaling down removes the highest numbers. A standby has
     * none until it is promoted; then it has its slot's number, in either mode (while the
     * {@code FORKLESS_INSTANCE} variable of a child JVM, fixed at its start, stays absent). Ask again
     * rather than keep the answer when the app runs with standbys.
     *
     * @return the number, or empty for a standby, and when the app runs alone without
     *         {@code FORKLESS_INSTANCE}
     */
    public static java.util.OptionalInt instance() {
        String value;
        if (ChildBridge.ACTIVE) {
            value = ChildBridge.instance();
        } else {
            CopyContext copy = CopyContext.of(WALKER.getCallerClass());
            value = copy == null ? System.getenv("FORKLESS_INSTANCE") : copy.getenv("FORKLESS_INSTANCE");
        }
        try {
            return value == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(Integer.parseInt(value.trim()));
        } catch (NumberFormatException e) {
            return java.util.OptionalInt.empty();
        }
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
