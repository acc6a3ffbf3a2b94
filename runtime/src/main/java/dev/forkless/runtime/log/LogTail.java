package dev.forkless.runtime.log;

import dev.forkless.runtime.CopyLogLine;
import dev.forkless.runtime.ForklessEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The last lines of each copy's output, in memory, for the admin API and the dashboard (whether or not
 * {@code --logs} writes files). Bounded: {@link #KEEP} lines per copy, each cut at {@link #LONGEST}
 * characters; a copy that is gone keeps its tail for a while (the {@link #GONE} most recent ones), so
 * the last words of a crashed copy can still be read. Taking a line is a few field writes under the
 * copy's own lock: a copy that prints never waits for another.
 */
public final class LogTail implements ConsoleRouter.Lines, Consumer<ForklessEvent> {

    /** Lines kept per copy. */
    static final int KEEP = 200;
    /** Characters kept of one line; the rest is replaced by a note of how much was cut. */
    static final int LONGEST = 2000;
    /** Copies that are gone whose tails are kept. */
    static final int GONE = 16;

    private final Map<String, Ring> live = new ConcurrentHashMap<>();
    /** Tails of copies that are gone, oldest first: guarded by itself. */
    private final Map<String, Ring> gone = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Ring> eldest) {
            return size() > GONE;
        }
    };

    @Override
    public void line(String worker, String stream, String message) {
        Ring ring = live.get(worker);
        if (ring == null) {
            synchronized (gone) {
                ring = gone.get(worker); // a pipe's last lines after the copy was unloaded
            }
            if (ring == null) {
                ring = live.computeIfAbsent(worker, k -> new Ring());
            }
        }
        ring.add(new CopyLogLine(System.currentTimeMillis(), stream, cut(message)));
    }

    /** Moves the tail of a copy that was unloaded among the gone ones. */
    @Override
    public void accept(ForklessEvent event) {
        if (event instanceof ForklessEvent.Unloaded u) {
            Ring ring = live.remove(u.workerId());
            if (ring != null) {
                synchronized (gone) {
                    gone.put(u.workerId(), ring);
                }
            }
        }
    }

    /**
     * @param worker the copy's id
     * @param lines  how many of the last lines, at most
     * @return its last lines, oldest first, each escaped for a terminal ({@link TerminalText}); empty
     *         when this copy printed nothing the tail still holds
     */
    public Optional<List<CopyLogLine>> tail(String worker, int lines) {
        Ring ring = live.get(worker);
        if (ring == null) {
            synchronized (gone) {
                ring = gone.get(worker);
            }
        }
        return ring == null ? Optional.empty() : Optional.of(ring.last(lines));
    }

    private static String cut(String message) {
        if (message.length() <= LONGEST) {
            return message;
        }
        int end = Character.isHighSurrogate(message.charAt(LONGEST - 1)) ? LONGEST - 1 : LONGEST;
        return message.substring(0, end) + " [" + (message.length() - end) + " more characters]";
    }

    /** One copy's last lines. */
    private static final class Ring {
        private final Deque<CopyLogLine> lines = new ArrayDeque<>(KEEP);

        synchronized void add(CopyLogLine line) {
            if (lines.size() == KEEP) {
                lines.removeFirst();
            }
            lines.addLast(line);
        }

        List<CopyLogLine> last(int n) {
            List<CopyLogLine> copy;
            synchronized (this) {
                copy = new ArrayList<>(lines);
            }
            List<CopyLogLine> result = new ArrayList<>(Math.min(n, copy.size()));
            for (CopyLogLine l : copy.subList(Math.max(0, copy.size() - n), copy.size())) {
                result.add(new CopyLogLine(l.timeMs(), l.stream(), TerminalText.clean(l.text(), false)));
            }
            return result;
        }
    }
}
