package dev.forkless.runtime.log;

import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.ForklessEvent.Crashed;
import dev.forkless.runtime.ForklessEvent.Drained;
import dev.forkless.runtime.ForklessEvent.Draining;
import dev.forkless.runtime.ForklessEvent.Errored;
import dev.forkless.runtime.ForklessEvent.Exited;
import dev.forkless.runtime.ForklessEvent.Listening;
import dev.forkless.runtime.ForklessEvent.Promoted;
import dev.forkless.runtime.ForklessEvent.Ready;
import dev.forkless.runtime.ForklessEvent.Restarting;
import dev.forkless.runtime.ForklessEvent.Started;
import dev.forkless.runtime.ForklessEvent.Stopping;
import dev.forkless.runtime.ForklessEvent.Unloaded;

import java.io.PrintStream;
import java.util.function.Consumer;

/**
 * Writes each event as one line, {@code forkless isolate=3 event=crashed cause="..."}: easy to read,
 * easy to grep, easy to parse.
 */
public final class EventLog implements Consumer<ForklessEvent> {

    private final PrintStream out;
    private final boolean traces;
    private java.util.List<String> held;

    /**
     * @param out    where lines go
     * @param traces whether a crash's stack trace follows its line
     */
    public EventLog(PrintStream out, boolean traces) {
        this.out = out;
        this.traces = traces;
    }

    /**
     * Holds lines from now on until {@link #release}: the CLI holds them while starting, so that a start
     * that fails prints one line, not the life of copies that never served.
     *
     * @return this
     */
    public synchronized EventLog hold() {
        held = new java.util.ArrayList<>();
        return this;
    }

    /**
     * Prints or drops the held lines, and prints lines as they come from now on.
     *
     * @param print whether to print them
     */
    public synchronized void release(boolean print) {
        if (held != null && print) {
            synchronized (out) {
                held.forEach(out::println);
            }
        }
        held = null;
    }

    @Override
    public void accept(ForklessEvent event) {
        print(lines(event, traces));
    }

    /**
     * The events of one app of several in the runtime: each line says which, {@code forkless app=web
     * isolate=3 event=crashed ...}; held and released with this log's.
     *
     * @param app the app's name
     * @return the app's listener
     */
    public Consumer<ForklessEvent> ofApp(String app) {
        return event -> {
            java.util.List<String> lines = new java.util.ArrayList<>(lines(event, traces));
            String first = lines.getFirst();
            lines.set(0, first.startsWith("forkless ") ? "forkless app=" + app + " " + first.substring(9) : first);
            print(lines);
        };
    }

    private synchronized void print(java.util.List<String> lines) {
        if (held != null) {
            held.addAll(lines);
            return;
        }
        synchronized (out) {
            lines.forEach(out::println);
        }
    }

    /**
     * The event's line, and with {@code traces} the stack trace of a crash, one line each behind two spaces.
     *
     * @param event  the event
     * @param traces whether a crash's stack trace follows
     * @return the lines
     */
    public static java.util.List<String> lines(ForklessEvent event, boolean traces) {
        java.util.List<String> lines = new java.util.ArrayList<>();
        lines.add(format(event));
        if (traces && event instanceof Crashed c) {
            c.stackTrace().lines().forEach(l -> lines.add("  " + TerminalText.clean(l, false)));
        }
        return lines;
    }

    /** @return the event as one line */
    public static String format(ForklessEvent event) {
        return switch (event) {
            case Listening e -> "forkless event=listening address=" + e.address().getHostString() + ":" + e.address().getPort();
            case Started e -> worker(e) + " event=started slot=" + e.slot() + (e.standby() ? " standby=true" : "");
            case Ready e -> worker(e) + " event=ready startMs=" + e.startTime().toMillis();
            case Promoted e -> worker(e) + " event=promoted slot=" + e.slot();
            case ForklessEvent.SlowStart e -> worker(e) + " event=slow-start waitedMs=" + e.waited().toMillis()
                    + " limitMs=" + e.limit().toMillis();
            case Crashed e -> worker(e) + " event=crashed cause=" + quote(e.cause());
            case Exited e -> worker(e) + " event=exited status=" + e.status();
            case ForklessEvent.Hung e -> worker(e) + " event=hung reason=" + quote(e.reason());
            case Draining e -> worker(e) + " event=draining connections=" + e.openConnections();
            case Drained e -> worker(e) + " event=drained ms=" + e.took().toMillis() + " forced=" + e.forcedConnections();
            case Unloaded e -> worker(e) + " event=unloaded"
                    + (e.leftoverThreads().isEmpty() ? "" : " leftoverThreads=" + quote(String.join(",", e.leftoverThreads())));
            case Restarting e -> "forkless slot=" + e.slot() + " event=restarting attempt=" + e.attempt()
                    + " delayMs=" + e.delay().toMillis();
            case Errored e -> "forkless slot=" + e.slot() + " event=errored unstableRestarts=" + e.unstableRestarts()
                    + " cause=" + quote(e.lastCause());
            case Stopping e -> "forkless event=stopping reason=" + quote(e.reason());
            case ForklessEvent.Reloading e -> "forkless event=reloading trigger=" + quote(e.trigger());
            case ForklessEvent.Reloaded e -> "forkless event=reloaded ok=" + e.ok() + " replaced=" + e.replaced()
                    + " ms=" + e.took().toMillis() + (e.ok() ? "" : " reason=" + quote(e.reason()));
            case ForklessEvent.Scaled e -> "forkless event=scaled from=" + e.from() + " to=" + e.to();
            case ForklessEvent.SettingsChanged e -> "forkless event=settings-changed applied="
                    + quote(e.applied().isEmpty() ? "nothing" : String.join(", ", e.applied()))
                    + (e.notApplied().isEmpty() ? "" : " not-applied=" + quote("needs a restart: " + String.join(", ", e.notApplied())));
            case ForklessEvent.Escalated e -> "forkless event=escalated to=process reason=" + quote(e.reason());
            case ForklessEvent.MemoryRestart e -> worker(e) + " event=memory-restart measure=" + e.measure()
                    + " bytes=" + e.bytes() + " limit=" + e.limit();
            case ForklessEvent.OomRestart e -> worker(e) + " event=oom-restart thread=" + quote(e.thread())
                    + " error=" + quote(e.error());
            case ForklessEvent.CpuLeak e -> "forkless event=cpu-leak cores=" + String.format(java.util.Locale.ROOT, "%.2f", e.cores());
        };
    }

    private static String worker(ForklessEvent.WorkerEvent e) {
        return "forkless " + e.mode() + "=" + e.workerId();
    }

    /**
     * A value in quotes, escaped so that the line stays one line and nothing in it talks to a terminal:
     * backslash, quote, line ends and every control character ({@link TerminalText}).
     */
    static String quote(String s) {
        return "\"" + TerminalText.clean(String.valueOf(s).replace("\\", "\\\\").replace("\"", "\\\""), false) + "\"";
    }
}
