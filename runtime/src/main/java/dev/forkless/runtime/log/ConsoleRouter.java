package dev.forkless.runtime.log;

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
 * behind the copy's tag ({@code [w3] }), so a partial line of one copy never interleaves with another's
 * (nor, within a copy, a partial line of one thread with another thread's: each thread's line is
 * collected on its own). With {@link #logTo} every whole line also goes to the log files.
 * Writes from threads of no isolate pass through unchanged.
 *
 * <p>Until a copy is ready its output is held: printed when it becomes ready or ends (so a failed start
 * shows why), dropped when the runtime gives up before anything served (a taken port is then reported
 * in one line, not as the app's stack traces).
 */
public final class ConsoleRouter {

    private static final int HOLD_LIMIT = 256 * 1024;

    private final RoutingStream out;
    private final RoutingStream err;

    /** Receives every whole line of every copy, held or not, as it is written: the log files. */
    public interface Lines {
        /**
         * One line; must not block.
         *
         * @param worker  the copy's id
         * @param stream  {@code out} or {@code err}
         * @param message the line, without its line end
         */
        void line(String worker, String stream, String message);
    }

    private ConsoleRouter(RoutingStream out, RoutingStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * Routes the JVM's console; a console already routed (another runtime in this JVM) is shared.
     *
     * @return the router
     */
    public static synchronized ConsoleRouter install() {
        if (System.out instanceof RoutingStream o && System.err instanceof RoutingStream e) {
            return new ConsoleRouter(o, e);
        }
        RoutingStream o = new RoutingStream(System.out, "out");
        RoutingStream e = new RoutingStream(System.err, "err");
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
    public PrintStream originalErr() {
        return err.target;
    }

    /**
     * Sends every whole line of every copy to {@code lines} too, from now on (besides any receiver given
     * before, another runtime's sharing the console included).
     *
     * @param lines the receiver: the log files, the tail the admin API shows
     */
    public void logTo(Lines lines) {
        out.lines.add(lines);
        err.lines.add(lines);
    }

    /**
     * A receiver that gets only the lines of some copies: with several apps in one JVM, each app's log
     * files and tail take their own copies' lines (the console is shared, copy ids are unique).
     *
     * @param lines  the receiver
     * @param copies whether a copy id is one of the receiver's
     * @return the filtering receiver, to give {@link #logTo} and {@link #stopLogging}
     */
    public static Lines only(Lines lines, java.util.function.Predicate<String> copies) {
        return (worker, stream, message) -> {
            if (copies.test(worker)) {
                lines.line(worker, stream, message);
            }
        };
    }

    /** Stops sending lines to a receiver {@link #logTo} gave. */
    public void stopLogging(Lines lines) {
        out.lines.remove(lines);
        err.lines.remove(lines);
    }

    /**
     * Where a copy's lines of one stream go, for output that does not come through {@code System.out}
     * (a child JVM's pipes): {@link Sink#write} bytes as they come, or {@link Sink#line} whole lines.
     *
     * @param id     the copy's id
     * @param stream {@code out} or {@code err}
     * @return its sink
     */
    Sink sink(String id, String stream) {
        return switch (stream) {
            case "out" -> out.sink(id);
            case "err" -> err.sink(id);
            default -> throw new IllegalArgumentException("no stream " + stream);
        };
    }

    /** @return where a child JVM's standard output goes: line by line behind its tag, held like an isolate's */
    public Sink outOf(String id) {
        return out.sink(id);
    }

    /** @return where a child JVM's standard error goes */
    public Sink errOf(String id) {
        return err.sink(id);
    }

    /**
     * Tags a copy's console lines with its app too ({@code [web w3] }), in a runtime of several apps; before
     * the copy writes anything.
     *
     * @param id  the copy's id
     * @param app its app's name
     */
    public void label(String id, String app) {
        out.labels.put(id, app);
        err.labels.put(id, app);
    }

    /** Starts holding a copy's output until {@link #release}. */
    public void hold(String id) {
        out.sink(id).hold();
        err.sink(id).hold();
    }

    /** Prints (or, with {@code print} false, drops) what a copy's output held, and stops holding. */
    public void release(String id, boolean print) {
        out.sink(id).release(print);
        err.sink(id).release(print);
    }

    /**
     * Whether the copies' escape sequences reach the console as they are (colours); by default they are
     * shown escaped, as every other control character always is ({@link TerminalText}).
     *
     * @param keep whether to let ESC through
     */
    public void keepEscapes(boolean keep) {
        out.keepEscapes = keep;
        err.keepEscapes = keep;
    }

    /** Drops all copies' output from now on: the runtime gave up before anything served. */
    public void discardAll() {
        out.discarding = true;
        err.discarding = true;
    }

    /** Forgets a copy once it is unloaded, printing what is left of its last line. */
    public void forget(String id, boolean print) {
        out.forget(id, print);
        err.forget(id, print);
    }

    /** A console stream that routes by isolate. */
    public static final class RoutingStream extends PrintStream {

        private final PrintStream target;
        private final String stream;
        private final Map<String, Sink> sinks = new ConcurrentHashMap<>();
        /** The app of each copy, in a runtime of several apps ({@link ConsoleRouter#label}). */
        private final Map<String, String> labels = new ConcurrentHashMap<>();
        private volatile boolean discarding;
        private final java.util.List<Lines> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile boolean keepEscapes;

        RoutingStream(PrintStream target, String stream) {
            super(new OutputStream() {
                @Override
                public void write(int b) {
                    target.write(b);
                }
            }, true, StandardCharsets.UTF_8);
            this.target = target;
            this.stream = stream;
        }

        Sink sink(String id) {
            return sinks.computeIfAbsent(id, k -> new Sink(this, k));
        }

        void forget(String id, boolean print) {
            labels.remove(id);
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
            } else {
                PrintStream own = stream.equals("err") ? isolate.console().err() : isolate.console().out();
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
    public static final class Sink {
        /** A line longer than this is cut: what was written so far becomes a line of its own. */
        private static final int LONGEST_LINE = 64 * 1024;

        private final RoutingStream owner;
        private final PrintStream target;
        private final String id;
        private final byte[] tag;
        /** The line each thread is writing: a line is whole even when threads print pieces at once. */
        private final Map<Thread, ByteArrayOutputStream> partials = new java.util.HashMap<>();
        private ByteArrayOutputStream held;

        Sink(RoutingStream owner, String id) {
            this.owner = owner;
            this.target = owner.target;
            this.id = id;
            String app = owner.labels.get(id);
            this.tag = ("[" + (app == null ? "" : app + " ") + "w" + id + "] ").getBytes(StandardCharsets.UTF_8);
        }

        /**
         * One whole line of the copy (a line end is added).
         *
         * @param text the line
         */
        void line(String text) {
            byte[] bytes = (text + "\n").getBytes(StandardCharsets.UTF_8);
            write(bytes, 0, bytes.length);
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

        public synchronized void write(byte[] buf, int off, int len) {
            Thread writer = Thread.currentThread();
            ByteArrayOutputStream partial = partials.get(writer);
            int start = off;
            int end = off + len;
            for (int i = off; i < end; i++) {
                if (buf[i] == '\n') {
                    if (partial == null) {
                        partial = new ByteArrayOutputStream();
                    }
                    partial.write(buf, start, i + 1 - start);
                    emitLine(partial);
                    start = i + 1;
                }
            }
            if (start < end) {
                if (partial == null) {
                    partial = new ByteArrayOutputStream();
                }
                partial.write(buf, start, end - start);
                if (partial.size() >= LONGEST_LINE) {
                    partial.write('\n');
                    emitLine(partial);
                }
            }
            if (partial != null && partial.size() > 0) {
                partials.put(writer, partial);
            } else {
                partials.remove(writer);
            }
        }

        /** Ends the lines threads left unfinished (the copy is gone). */
        public synchronized void flushPartial() {
            for (ByteArrayOutputStream partial : partials.values()) {
                partial.write('\n');
                emitLine(partial);
            }
            partials.clear();
        }

        private void emitLine(ByteArrayOutputStream partial) {
            int end = partial.size() - 1;
            byte[] bytes = partial.toByteArray();
            if (end > 0 && bytes[end - 1] == '\r') {
                end--; // a CRLF line end
            }
            String text = new String(bytes, 0, end, StandardCharsets.UTF_8);
            for (Lines lines : owner.lines) {
                lines.line(id, owner.stream, text);
            }
            if (owner.discarding) {
                partial.reset();
                return;
            }
            // the tag on every physical line: no carriage return or escape sequence of the copy's can
            // move the cursor back over it
            byte[] clean = (TerminalText.clean(text, owner.keepEscapes) + "\n").getBytes(StandardCharsets.UTF_8);
            // tag and line in one write: stdout and stderr often end in the same file
            byte[] line = new byte[tag.length + clean.length];
            System.arraycopy(tag, 0, line, 0, tag.length);
            System.arraycopy(clean, 0, line, tag.length, clean.length);
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
