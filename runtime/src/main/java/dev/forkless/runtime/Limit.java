package dev.forkless.runtime;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The range of every count, duration and size the runtime takes, in one table: the command line, the
 * config file, the embedding {@link Forkless.Builder} and the admin API all check their values here, so a
 * value is refused the same way wherever it comes from, and no arithmetic on a user's value can overflow
 * (the longest duration is a day: nanoseconds of it fit a {@code long} many times over).
 * docs/configuration.md lists the ranges.
 */
public enum Limit {
    /** Serving copies. More than 1024 in one runtime is a typo, not a plan. */
    COPIES(Kind.COUNT, 1, 1024),
    /** Warm standby copies. */
    STANDBY(Kind.COUNT, 0, 64),
    /** Unstable restarts in a row before a slot is errored. */
    MAX_RESTARTS(Kind.COUNT, 0, 1_000_000),
    /** Messages an inbox holds. */
    INBOX(Kind.COUNT, 1, 1 << 20),
    /** Files kept per log. */
    LOG_KEEP(Kind.COUNT, 1, 1000),
    /** Lines the {@code logs} command prints from the end of each file. */
    LOG_LINES(Kind.COUNT, 0, 1_000_000),
    /** Connections of {@code --compare}'s load. */
    CONNECTIONS(Kind.COUNT, 1, 10_000),
    /** The memory guard's limit ({@code --max-memory}): 16 MiB to 1 TiB. */
    MAX_MEMORY(Kind.SIZE, 16L << 20, 1L << 40),
    /** Bytes before a log file is rotated: 1 KiB to 1 TiB. */
    LOG_MAX_SIZE(Kind.SIZE, 1024, 1L << 40),
    /** Characters of an admin token: short ones can be guessed. */
    ADMIN_TOKEN(Kind.LENGTH, 16, 4096),
    /** How long a new copy gets to become ready. */
    READY_TIMEOUT(Kind.DURATION, 1, hours(1)),
    /** How long a stopping copy's connections get. */
    DRAIN_TIMEOUT(Kind.DURATION, 0, hours(1)),
    /** A copy that ends sooner is an unstable restart. */
    MIN_UPTIME(Kind.DURATION, 0, hours(1)),
    /** First delay before a restart. */
    RESTART_DELAY(Kind.DURATION, 0, hours(1)),
    /** Longest delay between restarts. */
    MAX_RESTART_DELAY(Kind.DURATION, 0, hours(1)),
    /** Quiet time before {@code --watch} reloads. */
    WATCH_DELAY(Kind.DURATION, 0, hours(1)),
    /** The hang watchdog's timeout; 0 turns it off. */
    HANG_TIMEOUT(Kind.DURATION, 0, hours(24)),
    /** How long {@code --escalate} watches the CPU. */
    ESCALATE_WINDOW(Kind.DURATION, 1000, hours(1)),
    /** How long a client command waits for the runtime's answer. */
    CLIENT_TIMEOUT(Kind.DURATION, 1000, hours(24));

    /** What a limit bounds. */
    public enum Kind {
        /** A whole number. */
        COUNT,
        /** Bytes, written {@code 10MB}, {@code 512KB}, {@code 1G} or a number. */
        SIZE,
        /** Milliseconds, written {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h} or ISO {@code PT5S}. */
        DURATION,
        /** Characters of a text. */
        LENGTH
    }

    private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d{1,30})(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,30})\\s*([kmgt]?)(i?b)?", Pattern.CASE_INSENSITIVE);

    private final Kind kind;
    private final long min;
    private final long max;

    Limit(Kind kind, long min, long max) {
        this.kind = kind;
        this.min = min;
        this.max = max;
    }

    private static long hours(long n) {
        return n * 3_600_000L;
    }

    /** @return what it bounds */
    public Kind kind() {
        return kind;
    }

    /** @return the smallest value (milliseconds for a duration, bytes for a size) */
    public long min() {
        return min;
    }

    /** @return the largest value (milliseconds for a duration, bytes for a size) */
    public long max() {
        return max;
    }

    /** @return the range as the docs write it, {@code 0 to 1h} */
    public String range() {
        return show(min) + " to " + show(max);
    }

    /**
     * Checks a count, size or length.
     *
     * @param name  the value's name in the message ({@code --standby}, {@code standby})
     * @param value the value
     * @return the value
     * @throws IllegalArgumentException {@code NAME must be between MIN and MAX, not VALUE}
     */
    public long check(String name, long value) {
        if (value < min || value > max) {
            throw outOfRange(name, show(value));
        }
        return value;
    }

    /**
     * Checks an int count.
     *
     * @param name  the value's name in the message
     * @param value the value
     * @return the value
     */
    public int check(String name, int value) {
        return (int) check(name, (long) value);
    }

    /**
     * Checks a duration.
     *
     * @param name  the value's name in the message
     * @param value the duration
     * @return the value
     * @throws IllegalArgumentException when it is null or out of range
     */
    public Duration check(String name, Duration value) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must be given");
        }
        if (value.isNegative() || value.compareTo(Duration.ofMillis(max)) > 0 || value.compareTo(Duration.ofMillis(min)) < 0) {
            throw outOfRange(name, value.isNegative() || value.compareTo(Duration.ofDays(3650)) > 0
                    ? value.toString() : show(value));
        }
        return value;
    }

    /**
     * Parses a count as users write it and checks it.
     *
     * @param name the option's name in messages
     * @param text the text
     * @return the count
     */
    public int parseCount(String name, String text) {
        String s = text.trim();
        if (!s.matches("[+-]?\\d{1,30}")) {
            throw new IllegalArgumentException(name + " takes a whole number, not '" + abbreviate(text) + "'");
        }
        long n;
        try {
            n = Long.parseLong(s);
        } catch (NumberFormatException tooLong) {
            throw outOfRange(name, abbreviate(s));
        }
        return (int) check(name, n);
    }

    /**
     * Parses a duration as users write it ({@code 5s}, {@code 500ms}, {@code 2m}, {@code 1h}, {@code 1d},
     * ISO {@code PT5S}, or {@code 0}) and checks it.
     *
     * @param name the option's name in messages
     * @param text the text
     * @return the duration
     */
    public Duration parseDuration(String name, String text) {
        String s = text.trim();
        Duration d;
        try {
            d = parseAnyDuration(s);
        } catch (ArithmeticException tooLong) {
            throw outOfRange(name, abbreviate(s));
        }
        if (d == null) {
            throw new IllegalArgumentException(name + ": '" + abbreviate(text) + "' is not a duration (use e.g. 5s, 500ms, 2m)");
        }
        if (d.isNegative() || d.compareTo(Duration.ofMillis(max)) > 0 || d.compareTo(Duration.ofMillis(min)) < 0) {
            throw outOfRange(name, abbreviate(s));
        }
        return d;
    }

    /**
     * Parses a size ({@code 10MB}, {@code 512KB}, {@code 1G}, {@code 2048}) and checks it.
     *
     * @param name the option's name in messages
     * @param text the text
     * @return bytes
     */
    public long parseSize(String name, String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(name + ": '" + abbreviate(text) + "' is not a size (use e.g. 10MB, 512KB)");
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
            n = switch (m.group(2).toLowerCase(Locale.ROOT)) {
                case "k" -> Math.multiplyExact(n, 1024L);
                case "m" -> Math.multiplyExact(n, 1024L * 1024);
                case "g" -> Math.multiplyExact(n, 1024L * 1024 * 1024);
                case "t" -> Math.multiplyExact(n, 1024L * 1024 * 1024 * 1024);
                default -> n;
            };
        } catch (NumberFormatException | ArithmeticException tooLarge) {
            throw outOfRange(name, abbreviate(text.trim()));
        }
        return check(name, n);
    }

    /**
     * @param text a value
     * @return whether it is written as a duration (in range or not)
     */
    public static boolean isDuration(String text) {
        try {
            return parseAnyDuration(text.trim()) != null;
        } catch (ArithmeticException tooLong) {
            return true;
        }
    }

    /**
     * @param text a value
     * @return whether it is written as a size (in range or not)
     */
    public static boolean isSize(String text) {
        return SIZE.matcher(text.trim()).matches();
    }

    /** @return the duration, or null when the text is none; ArithmeticException when it is too long for Java */
    private static Duration parseAnyDuration(String s) {
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = SIMPLE_DURATION.matcher(s);
        if (m.matches()) {
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException tooLong) {
                throw new ArithmeticException("too long");
            }
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        if (s.length() > 64) {
            return null;
        }
        try {
            return Duration.parse(s);
        } catch (DateTimeParseException e) {
            if (e.getCause() instanceof ArithmeticException) {
                throw new ArithmeticException("too long");
            }
            return null;
        }
    }

    private IllegalArgumentException outOfRange(String name, String value) {
        return new IllegalArgumentException(name + " must be between " + show(min) + " and " + show(max)
                + ", not " + value);
    }

    private String show(long value) {
        return switch (kind) {
            case COUNT, LENGTH -> Long.toString(value);
            case SIZE -> showSize(value);
            case DURATION -> show(Duration.ofMillis(value));
        };
    }

    /**
     * A duration as users write it and the docs show it: {@code 0}, {@code 100ms}, {@code 60s}, {@code 1h}
     * (seconds below an hour, as the defaults were always written); {@link #parseDuration} reads it back.
     *
     * @param d the duration, whole milliseconds
     * @return its text
     */
    public static String text(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        return ms != 0 && ms % 3_600_000 == 0 ? ms / 3_600_000 + "h" : ms / 1000 == 0 ? "0" : ms / 1000 + "s";
    }

    /**
     * A size as users write it and the docs show it: {@code 10MB}, {@code 512KB}, or bytes;
     * {@link #parseSize} reads it back.
     *
     * @param bytes the size
     * @return its text
     */
    public static String sizeText(long bytes) {
        return showSize(bytes);
    }

    private static String showSize(long bytes) {
        String[] units = {"TB", "GB", "MB", "KB"};
        long[] sizes = {1L << 40, 1L << 30, 1L << 20, 1L << 10};
        for (int i = 0; i < units.length; i++) {
            if (bytes != 0 && bytes % sizes[i] == 0) {
                return bytes / sizes[i] + units[i];
            }
        }
        return Long.toString(bytes);
    }

    private static String show(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
