package dev.forkless.runtime;

import dev.forkless.runtime.log.TerminalText;

/**
 * One line a copy printed, as {@link Forkless#logTail} keeps it.
 *
 * @param timeMs when the line was complete, in ms since the epoch
 * @param stream {@code out} or {@code err}
 * @param text   the line without its line end; control characters escaped ({@link TerminalText}), cut
 *               after 2000 characters with a note of how many more there were
 */
public record CopyLogLine(long timeMs, String stream, String text) {
}
