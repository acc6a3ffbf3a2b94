package dev.forkless.isolate;

import java.io.PrintStream;

/**
 * The streams a copy installed with {@code System.setOut} / {@code System.setErr}: its own, never the
 * JVM's. The host's console router writes a copy's output there when it has one.
 */
public final class IsolateConsole {

    private volatile PrintStream out;
    private volatile PrintStream err;

    IsolateConsole() {
    }

    void setOut(PrintStream out) {
        this.out = out;
    }

    void setErr(PrintStream err) {
        this.err = err;
    }

    /** @return the stream the copy set as its standard output, or {@code null} */
    public PrintStream out() {
        return out;
    }

    /** @return the stream the copy set as its standard error, or {@code null} */
    public PrintStream err() {
        return err;
    }

    void clear() {
        out = null;
        err = null;
    }
}
