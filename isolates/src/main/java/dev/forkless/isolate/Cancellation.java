package dev.forkless.isolate;

/**
 * An isolate's stop signal, polled by the app's own loops: the rewriter inserts a {@link #poll()} before
 * every backward branch of app code, so a thread spinning in app code ends once its isolate is unloaded
 * ({@code Thread.stop} no longer exists). The poll is one volatile read; {@link CallSiteRewriter} loads the
 * token as a dynamic constant, so the JIT sees a constant receiver.
 */
public final class Cancellation {

    private volatile boolean cancelled;

    Cancellation() {
    }

    /**
     * Returns at once unless the isolate is unloaded; then unwinds the calling thread.
     *
     * @throws IsolateCancelled once the isolate is unloaded
     */
    public void poll() {
        if (cancelled) {
            throw new IsolateCancelled();
        }
    }

    void cancel() {
        cancelled = true;
    }

    /** @return whether the isolate was cancelled */
    public boolean isCancelled() {
        return cancelled;
    }

    /** Unwinds a thread of an unloaded isolate, from a loop of app code. */
    public static final class IsolateCancelled extends Error {
        IsolateCancelled() {
            super("the isolate was unloaded", null, false, false);
        }
    }
}
