package dev.forkless.isolate;

/**
 * Unwinds a thread of an isolate that called {@code System.exit} (or {@code Runtime.exit/halt}) once the
 * isolate is stopped. Like the JDK's own exit, the call never returns.
 */
public final class IsolateExit extends Error {

    private final int status;

    IsolateExit(int status) {
        super("isolate exited with status " + status, null, false, false);
        this.status = status;
    }

    /** @return the exit status */
    public int status() {
        return status;
    }
}
