package dev.forkless.isolate;

/**
 * An isolate's stop signal, polled by the app's own loops: the rewriter inserts a {@link #poll()} before
 * every backward branch of app code, so a thread spinning in app code ends once its isolate is unloaded
 * ({@code Thread.stop} no longer exists). The poll is one volatile read; {@link CallSiteRewriter} loads the
 * token as a dynamic constant, so the JIT sees a constant receiver.
 *
 * <p>A cancelled token unwinds the threads of its own isolate, and threads of no isolate (JDK pool threads,
 * the host's), but not a thread of another copy that is still running: code of an unloaded copy can be
 * reached from another copy through what the JVM shares (a {@code java.util.logging} handler the copy left
 * on the root logger, say), and the other copy's request must not fail for it. Which thread it is, is
 * asked only once the token is cancelled: the poll of a live copy costs the one volatile read.
 */
public final class Cancellation {

    /** The isolate whose loops poll this token; {@code null} for the token of code outside any isolate. */
    private final Isolate owner;
    private volatile boolean cancelled;

    Cancellation(Isolate owner) {
        this.owner = owner;
    }

    /**
     * Returns at once unless the isolate is unloaded; then unwinds the calling thread, unless it works for
     * another copy that is still running.
     *
     * @throws IsolateCancelled once the isolate is unloaded
     */
    public void poll() {
        if (cancelled) {
            unwind(Thread.currentThread());
        }
    }

    private void unwind(Thread thread) {
        if (unwinds(thread)) {
            throw new IsolateCancelled();
        }
    }

    /** Whether a cancelled token ends {@code thread}: a thread of its isolate, of no isolate or of a cancelled one. */
    boolean unwinds(Thread thread) {
        Isolate working = Isolate.of(thread);
        return working == null || working == owner || working.cancellation().isCancelled();
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
            // with its stack: it is thrown once per thread, and says which loop of which copy was stopped
            super("the isolate was unloaded", null, false, true);
        }
    }
}
