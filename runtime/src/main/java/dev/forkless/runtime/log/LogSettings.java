package dev.forkless.runtime.log;

import dev.forkless.runtime.Limit;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Objects;

/**
 * Where and how the copies' output and the runtime's own events are written to files.
 *
 * <p>Files in {@code dir}: {@code <app>-<id>-out.log} and {@code <app>-<id>-err.log} per copy, or one
 * {@code <app>.log} for all copies when {@code merge}; the runtime's events in {@code <app>-events.log}.
 * A file that would grow past {@code maxSize} is rotated ({@code .1} is the newest older file); at most
 * {@code keep} files of one log exist, the live one included.
 *
 * @param dir        the folder
 * @param merge      one file for every copy's output, each line tagged with its copy
 * @param format     plain lines, or JSON lines ({@code time}, {@code worker}, {@code stream}, {@code message})
 * @param dateFormat a {@link DateTimeFormatter} pattern for the time of each line; {@code null}: copies' text
 *                   lines carry no time, JSON and event lines an ISO-8601 instant
 * @param maxSize    bytes a file may hold before it is rotated
 * @param keep       files kept per log, the live one included
 */
public record LogSettings(Path dir, boolean merge, Format format, String dateFormat, long maxSize, int keep) {

    /** Default largest file: 10 MB. */
    public static final long DEFAULT_MAX_SIZE = 10L * 1024 * 1024;
    /** Default files kept per log. */
    public static final int DEFAULT_KEEP = 5;

    /** How lines are written. */
    public enum Format {
        /** The line as the app wrote it (behind the time, with {@code dateFormat}). */
        TEXT,
        /** One JSON object per line. */
        JSON
    }

    /**
     * Checks the settings.
     *
     * @throws IllegalArgumentException when one is out of range
     */
    public LogSettings {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(format, "format");
        Limit.LOG_MAX_SIZE.check("log max size", maxSize);
        Limit.LOG_KEEP.check("log keep", keep);
        if (dateFormat != null) {
            formatter(dateFormat);
        }
    }

    /**
     * Default settings: separate text files, 10 MB, 5 kept.
     *
     * @param dir the folder
     * @return the settings
     */
    public static LogSettings in(Path dir) {
        return new LogSettings(dir, false, Format.TEXT, null, DEFAULT_MAX_SIZE, DEFAULT_KEEP);
    }

    /** @param merge one file for all copies @return a copy with it */
    public LogSettings withMerge(boolean merge) {
        return new LogSettings(dir, merge, format, dateFormat, maxSize, keep);
    }

    /** @param format the format @return a copy with it */
    public LogSettings withFormat(Format format) {
        return new LogSettings(dir, merge, format, dateFormat, maxSize, keep);
    }

    /** @param dateFormat a {@link DateTimeFormatter} pattern, or null @return a copy with it */
    public LogSettings withDateFormat(String dateFormat) {
        return new LogSettings(dir, merge, format, dateFormat, maxSize, keep);
    }

    /** @param maxSize bytes before rotation, @param keep files kept @return a copy with them */
    public LogSettings withRotation(long maxSize, int keep) {
        return new LogSettings(dir, merge, format, dateFormat, maxSize, keep);
    }

    /**
     * Parses a size as users write it: {@code 10MB}, {@code 512KB}, {@code 1G}, {@code 2048} (bytes).
     *
     * @param text the size
     * @return bytes
     * @throws IllegalArgumentException when it is no size
     */
    public static long parseSize(String text) {
        return Limit.LOG_MAX_SIZE.parseSize("log max size", text);
    }

    /**
     * Parses a format name.
     *
     * @param text {@code text} or {@code json}
     * @return the format
     */
    public static Format parseFormat(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "text" -> Format.TEXT;
            case "json" -> Format.JSON;
            default -> throw new IllegalArgumentException("log format is text or json, not '" + text + "'");
        };
    }

    static DateTimeFormatter formatter(String pattern) {
        try {
            return DateTimeFormatter.ofPattern(pattern, Locale.ROOT).withZone(ZoneId.systemDefault());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + pattern + "' is not a date format (" + e.getMessage() + ")");
        }
    }

    /**
     * The file of one copy's stream, or of the runtime's events ({@code worker} null).
     *
     * @param app    the app's name
     * @param worker the copy's id, or null for the runtime's events
     * @param stream {@code out}, {@code err} or {@code events}
     * @return the file name
     */
    public String fileName(String app, String worker, String stream) {
        if (worker == null) {
            return app + "-events.log";
        }
        return merge ? app + ".log" : app + "-" + worker + "-" + stream + ".log";
    }
}
