package dev.forkless.runtime;

/**
 * The runtime could not start or keep the app running, or was given no app it can run. Its message is one
 * line for the user; the exit code is what the CLI exits with: 2 for bad input (a bad app, a port taken),
 * 1 for a failure.
 */
public final class ForklessException extends RuntimeException {

    private final int exitCode;

    public ForklessException(String message, int exitCode) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    /**
     * @param message   one line for the user
     * @param exitCode  the exit code the CLI uses
     * @param cause     what went wrong underneath
     */
    public ForklessException(String message, int exitCode, Throwable cause) {
        super(message, cause, false, false);
        this.exitCode = exitCode;
    }

    /** @return the exit code the CLI uses */
    public int exitCode() {
        return exitCode;
    }
}
