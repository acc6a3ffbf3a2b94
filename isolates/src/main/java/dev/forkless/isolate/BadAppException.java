package dev.forkless.isolate;

/**
 * An application that cannot be run as given; its message is one line meant for the user (a cause's
 * multi-line message, such as a verifier's bytecode dump, is cut to its first line).
 */
public final class BadAppException extends RuntimeException {

    private static final int MAX_LENGTH = 400;

    public BadAppException(String message) {
        super(oneLine(message), null, false, false);
    }

    public BadAppException(String message, Throwable cause) {
        super(oneLine(message), cause, false, false);
    }

    private static String oneLine(String message) {
        String line = message == null ? "" : message.strip().lines().findFirst().orElse("").strip();
        return line.length() > MAX_LENGTH ? line.substring(0, MAX_LENGTH) + "..." : line;
    }
}
