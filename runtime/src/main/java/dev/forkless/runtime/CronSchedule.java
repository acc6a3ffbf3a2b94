package dev.forkless.runtime;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A cron schedule ({@code --cron-restart}): the standard five fields, {@code minute hour day-of-month
 * month day-of-week}, or six with a {@code second} field first (as PM2's {@code cron_restart} takes).
 * Each field is {@code *}, a number, a range {@code a-b}, any of them with a step (<code>&#42;/15</code>,
 * {@code 1-30/2}, {@code 5/10}: from 5 to the end), or a comma list of those; months and weekdays also by
 * their English names ({@code JAN}, {@code mon-fri}); weekday 0 and 7 are both Sunday.
 *
 * <p>As in Vixie cron, when both day-of-month and day-of-week are restricted (neither starts with
 * {@code *}) a day matches when either does ({@code 0 0 1 * MON}: the 1st and every Monday); else both
 * must. Times are wall-clock times of a zone: a time the clocks skip (spring forward) fires once when the
 * clocks jump, a time that happens twice (fall back) fires once, the first time.
 *
 * <p>Each field is a bit set: bit {@code n} is value {@code n}.
 *
 * @param expression the text it was parsed from
 * @param seconds    seconds 0..59 ({@code 0} alone in the five-field form)
 * @param minutes    minutes 0..59
 * @param hours      hours 0..23
 * @param days       days of the month 1..31
 * @param months     months 1..12
 * @param weekdays   days of the week 0..6, Sunday 0
 * @param anyDay     the day-of-month field starts with {@code *}
 * @param anyWeekday the day-of-week field starts with {@code *}
 */
public record CronSchedule(String expression, long seconds, long minutes, long hours, long days, long months,
                           long weekdays, boolean anyDay, boolean anyWeekday) {

    private static final List<String> MONTHS = List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
            "SEP", "OCT", "NOV", "DEC");
    private static final List<String> WEEKDAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");
    /** Longer than any wait for a schedule that can match: Feb 29 on a given weekday recurs within 28 years. */
    private static final int YEARS_SEARCHED = 30;

    /** One field's range and names. */
    private record Field(String name, int min, int max, List<String> names) {
    }

    private static final Field SECOND = new Field("second", 0, 59, List.of());
    private static final Field MINUTE = new Field("minute", 0, 59, List.of());
    private static final Field HOUR = new Field("hour", 0, 23, List.of());
    private static final Field DAY = new Field("day-of-month", 1, 31, List.of());
    private static final Field MONTH = new Field("month", 1, 12, MONTHS);
    /** 7 is Sunday too: folded onto 0 after parsing. */
    private static final Field WEEKDAY = new Field("day-of-week", 0, 7, WEEKDAYS);

    public CronSchedule {
        Objects.requireNonNull(expression, "expression");
    }

    /**
     * @param expression five fields, or six with seconds first, separated by spaces
     * @return the schedule
     * @throws IllegalArgumentException naming what is wrong, in one line
     */
    public static CronSchedule parse(String expression) {
        Objects.requireNonNull(expression, "expression");
        String[] fields = expression.trim().split("\\s+");
        if (fields.length != 5 && fields.length != 6) {
            throw new IllegalArgumentException("cron expression '" + expression + "' needs 5 fields (minute hour "
                    + "day-of-month month day-of-week) or 6 (second first), not " + (expression.isBlank() ? 0 : fields.length));
        }
        int at = fields.length - 5;
        long seconds = at == 1 ? bits(SECOND, fields[0], expression) : 1L;
        long weekdays = bits(WEEKDAY, fields[at + 4], expression);
        if ((weekdays & (1L << 7)) != 0) {
            weekdays = (weekdays & ~(1L << 7)) | 1L;
        }
        CronSchedule schedule = new CronSchedule(String.join(" ", fields), seconds, bits(MINUTE, fields[at], expression),
                bits(HOUR, fields[at + 1], expression), bits(DAY, fields[at + 2], expression),
                bits(MONTH, fields[at + 3], expression), weekdays,
                fields[at + 2].startsWith("*"), fields[at + 4].startsWith("*"));
        if (!schedule.anyDay && schedule.anyWeekday && !schedule.someMonthHasADay()) {
            throw new IllegalArgumentException("cron expression '" + expression + "' never matches: no month it "
                    + "names has the day it names");
        }
        return schedule;
    }

    private static long bits(Field field, String text, String expression) {
        long bits = 0;
        for (String item : text.split(",", -1)) {
            try {
                bits |= item(field, item);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cron expression '" + expression + "': bad " + field.name()
                        + " '" + item + "': " + e.getMessage());
            }
        }
        return bits;
    }

    /** One item of a list: {@code *}, {@code n}, {@code a-b}, each with an optional {@code /step}. */
    private static long item(Field field, String item) {
        String range = item;
        int step = 1;
        int slash = item.indexOf('/');
        if (slash >= 0) {
            range = item.substring(0, slash);
            step = number(item.substring(slash + 1), "the step", List.of());
            if (step < 1) {
                throw new IllegalArgumentException("the step must be at least 1");
            }
        }
        int from;
        int to;
        if (range.equals("*")) {
            from = field.min();
            to = field.max();
        } else {
            int dash = range.indexOf('-', 1);
            from = value(field, dash < 0 ? range : range.substring(0, dash));
            to = dash < 0 ? (slash >= 0 ? field.max() : from) : value(field, range.substring(dash + 1));
            if (to < from) {
                throw new IllegalArgumentException("a range must not run backwards");
            }
        }
        long bits = 0;
        for (int v = from; v <= to; v += step) {
            bits |= 1L << v;
        }
        return bits;
    }

    private static int value(Field field, String text) {
        int value = number(text, "a value", field.names());
        if (field.names().contains(text.toUpperCase(Locale.ROOT))) {
            value += field.min();
        }
        if (value < field.min() || value > field.max()) {
            throw new IllegalArgumentException("must be between " + field.min() + " and " + field.max());
        }
        return value;
    }

    /** @return the number, or the index of the name in {@code names} */
    private static int number(String text, String what, List<String> names) {
        int name = names.indexOf(text.toUpperCase(Locale.ROOT));
        if (name >= 0) {
            return name;
        }
        if (text.isEmpty() || text.length() > 4 || !text.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException(what + " must be a number" + (names.isEmpty() ? "" : " or a name"));
        }
        return Integer.parseInt(text);
    }

    /** @return whether a month of the schedule has one of its days (with day-of-week {@code *}) */
    private boolean someMonthHasADay() {
        for (Month month : Month.values()) {
            if (has(months, month.getValue()) && Long.numberOfTrailingZeros(days) <= month.maxLength()) {
                return true;
            }
        }
        return false;
    }

    private static boolean has(long bits, int value) {
        return (bits & (1L << value)) != 0;
    }

    /** @return whether the day matches: day-of-month and day-of-week, or either when both are restricted */
    boolean matches(LocalDate date) {
        boolean day = has(days, date.getDayOfMonth());
        boolean weekday = has(weekdays, date.getDayOfWeek() == DayOfWeek.SUNDAY ? 0 : date.getDayOfWeek().getValue());
        return anyDay || anyWeekday ? day && weekday : day || weekday;
    }

    /**
     * @param after a time, in the zone the schedule is read in
     * @return the first time strictly after {@code after} that the schedule names, in the same zone
     * @throws IllegalStateException when it names none in the next {@value #YEARS_SEARCHED} years
     */
    public ZonedDateTime next(ZonedDateTime after) {
        ZoneId zone = after.getZone();
        LocalDateTime t = after.toLocalDateTime().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        LocalDateTime end = t.plusYears(YEARS_SEARCHED);
        while (t.isBefore(end)) {
            if (!has(months, t.getMonthValue())) {
                t = t.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay();
            } else if (!matches(t.toLocalDate())) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
            } else if (!has(hours, t.getHour())) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
            } else if (!has(minutes, t.getMinute())) {
                t = t.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
            } else if (!has(seconds, t.getSecond())) {
                t = t.plusSeconds(1);
            } else {
                ZonedDateTime at = resolve(t, zone);
                if (at.isAfter(after)) {
                    return at;
                }
                t = t.plusSeconds(1); // a time of the fall back's second pass: it fired the first time
            }
        }
        throw new IllegalStateException("cron expression '" + expression + "' names no time in "
                + YEARS_SEARCHED + " years after " + after);
    }

    /** A wall-clock time in {@code zone}: in a gap, the instant the clocks jump; in an overlap, the first. */
    private static ZonedDateTime resolve(LocalDateTime t, ZoneId zone) {
        if (zone.getRules().getValidOffsets(t).isEmpty()) {
            ZoneOffsetTransition gap = zone.getRules().getTransition(t);
            return ZonedDateTime.ofInstant(gap.getInstant(), zone);
        }
        return ZonedDateTime.ofLocal(t, zone, null);
    }

    @Override
    public String toString() {
        return expression;
    }
}
