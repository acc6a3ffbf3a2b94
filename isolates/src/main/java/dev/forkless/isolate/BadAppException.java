package dev.forkless.isolate;

/** An application that cannot be run as given; its message is one line meant for the user. */
public final class BadAppException extends RuntimeException {

    public BadAppException(String message) {
        super(message, null, false, false);
    }

    public BadAppException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
