package dev.forkless.runtime;

import dev.forkless.isolate.Isolate;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Logger;

/**
 * Tells copies apart on the one console of the JVM: {@code System.out} and {@code System.err} become
 * streams that route each write by the writing thread's isolate, and print it a whole line at a time
 * behind the copy's tag ({@code [w3] }), so a partial line of one copy never interleaves with another's.
 * Writes from threads of no isolate pass through unchanged.
 *
 * <p>Until a copy is ready its output is held: printed when it becomes ready or ends (so a failed start
 * shows why), dropped when the runtime gives up before anything served (a taken port is then reported
 * in one line, not as the app's stack traces).
 */
final class ConsoleRouter {

    private static final int HOLD_LIMIT = 256 * 1024;

    private final RoutingStream out;
    private final RoutingStream err;

    private ConsoleRouter(RoutingStream out, RoutingStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * Routes the JVM's console; a console already routed (another runtime in this JVM) is shared.
     *
     * @return the router
     */
    static synchronized ConsoleRouter install() {
        if (System.out instanceof RoutingStream o && System.err instanceof RoutingStream e) {
            return new ConsoleRouter(o, e);
        }
        RoutingStream o = new RoutingStream(System.out, false);
        RoutingStream e = new RoutingStream(System.err, true);
        System.setOut(o);
        System.setErr(e);
        // JUL's console handler keeps the stream it was created with: give it the routed one.
        Logger root = Logger.getLogger("");
        for (Handler handler : root.getHandlers()) {
            if (handler.getClass() == ConsoleHandler.class) {
                ConsoleHandler routed = new ConsoleHandler();
                routed.setLevel(handler.getLevel());
                routed.setFormatter(handler.getFormatter());
                root.removeHandler(handler);
                root.addHandler(routed);
            }
        }
        return new ConsoleRouter(o, e);
    }

    /** @return the console as it was before routing: for the runtime's own lines */
    PrintStream originalErr() {
        return err.target;
    }

    /** @return where a child JVM's standard output goes: line by line behind its tag, held like an isolate's */
    Sink outOf(String id) {
        return out.sink(id);
    }

    /** @return where a child JVM's standard error goes */
    Sink errOf(String id) {
        return err.sink(id);
    }

    /** Starts holding a copy's output until {@link #release}. */
    void hold(String id) {
        out.sink(id).hold();
        err.sink(id).hold();
    }

    /** Prints (or, with {@code print} false, drops) what a copy's output held, and stops holding. */
    void release(String id, boolean print) {
        out.sink(id).release(print);
        err.sink(id).release(print);
    }

    /** Drops all copies' output from now on: the runtime gave up before anything served. */
    void discardAll() {
        out.discarding = true;
        err.discarding = true;
    }

    /** Forgets a copy once it is unloaded, printing what is left of its last line. */
    void forget(String id, boolean print) {
        out.forget(id, print);
        err.forget(id, print);
    }

    /** A console stream that routes by isolate. */
    static final class RoutingStream extends PrintStream {

        private final PrintStream target;
        private final boolean isErr;
        private final Map<String, Sink> sinks = new ConcurrentHashMap<>();
        private volatile boolean discarding;

        RoutingStream(PrintStream target, boolean isErr) {
            super(new OutputStream() {
                @Override
                public void write(int b) {
                    target.write(b);
                }
            }, true, StandardCharsets.UTF_8);
            this.target = target;
            this.isErr = isErr;
        }

        Sink sink(String id) {
            return sinks.computeIfAbsent(id, k -> new Sink(target, "[w" + k + "] "));
        }

        void forget(String id, boolean print) {
            Sink sink = sinks.remove(id);
            if (sink != null) {
                sink.release(print);
                if (print) {
                    sink.flushPartial();
                }
            }
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] buf, int off, int len) {
            Isolate isolate = Isolate.of(Thread.currentThread());
            if (isolate == null) {
                target.write(buf, off, len);
                target.flush();
            } else if (!discarding) {
                PrintStream own = isErr ? isolate.console().err() : isolate.console().out();
                if (own != null && own != this) {
                    // the copy replaced its System.out/err: its output is its own business
                    own.write(buf, off, len);
                } else {
                    sink(isolate.id()).write(buf, off, len);
                }
            }
        }

        @Override
        public void flush() {
            target.flush();
        }
    }

    /** One copy's lines on one stream. */
    static final class Sink {
        private final PrintStream target;
        private final byte[] tag;
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private ByteArrayOutputStream held;

        Sink(PrintStream target, String tag) {
            this.target = target;
            this.tag = tag.getBytes(StandardCharsets.UTF_8);
        }

        synchronized void hold() {
            if (held == null) {
                held = new ByteArrayOutputStream();
            }
        }

        synchronized void release(boolean print) {
            if (held != null) {
                if (print) {
                    synchronized (target) {
                        target.write(held.toByteArray(), 0, held.size());
                        target.flush();
                    }
                }
                held = null;
            }
        }

        synchronized void write(byte[] buf, int off, int len) {
            int start = off;
            int end = off + len;
            for (int i = off; i < end; i++) {
                if (buf[i] == '\n') {
                    partial.write(buf, start, i + 1 - start);
                    emitLine();
                    start = i + 1;
                }
            }
            partial.write(buf, start, end - start);
        }

        synchronized void flushPartial() {
            if (partial.size() > 0) {
                partial.write('\n');
                emitLine();
            }
        }

        private void emitLine() {
            // tag and line in one write: stdout and stderr often end in the same file
            byte[] line = new byte[tag.length + partial.size()];
            System.arraycopy(tag, 0, line, 0, tag.length);
            System.arraycopy(partial.toByteArray(), 0, line, tag.length, partial.size());
            if (held != null) {
                if (held.size() < HOLD_LIMIT) {
                    held.write(line, 0, line.length);
                }
            } else {
                synchronized (target) {
                    target.write(line, 0, line.length);
                    target.flush();
                }
            }
            partial.reset();
        }
    }
}
