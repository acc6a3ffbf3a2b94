package dev.forkless.isolate;

/**
 * The JVM-wide last-resort handler a host installs once: an exception escaping a thread of an isolate
 * (a virtual thread, or a thread outside the isolate's thread group that runs with its loader) is that
 * isolate's crash; any other goes to the handler that was there before.
 */
public final class UncaughtExceptionDispatcher implements Thread.UncaughtExceptionHandler {

    private final Thread.UncaughtExceptionHandler previous;

    private UncaughtExceptionDispatcher(Thread.UncaughtExceptionHandler previous) {
        this.previous = previous;
    }

    /** Installs the dispatcher as the JVM's default handler, once. */
    public static synchronized void install() {
        Thread.UncaughtExceptionHandler current = Thread.getDefaultUncaughtExceptionHandler();
        if (!(current instanceof UncaughtExceptionDispatcher)) {
            Thread.setDefaultUncaughtExceptionHandler(new UncaughtExceptionDispatcher(current));
        }
    }

    @Override
    public void uncaughtException(Thread thread, Throwable cause) {
        Isolate isolate = Isolate.of(thread);
        if (isolate != null) {
            isolate.uncaught(thread, cause);
        } else if (previous != null) {
            previous.uncaughtException(thread, cause);
        } else if (!(cause instanceof IsolateExit)) {
            System.err.print("Exception in thread \"" + thread.getName() + "\" ");
            cause.printStackTrace(System.err);
        }
    }
}
