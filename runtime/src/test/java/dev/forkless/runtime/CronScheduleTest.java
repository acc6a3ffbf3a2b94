package dev.forkless.runtime;

import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cron parser and its next-time computation, against times worked out by hand. */
class CronScheduleTest {

    private static final ZoneId UTC = ZoneOffset.UTC;
    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    private static ZonedDateTime at(String local, ZoneId zone) {
        return LocalDateTime.parse(local).atZone(zone);
    }

    private static String next(String expression, String after) {
        return CronSchedule.parse(expression).next(at(after, UTC)).toLocalDateTime().toString();
    }

    /** @return the next {@code n} times after {@code after}, as {@code local+offset} */
    private static List<String> times(String expression, ZonedDateTime after, int n) {
        CronSchedule schedule = CronSchedule.parse(expression);
        List<String> times = new ArrayList<>();
        ZonedDateTime t = after;
        for (int i = 0; i < n; i++) {
            t = schedule.next(t);
            times.add(t.toLocalDateTime() + t.getOffset().toString());
        }
        return times;
    }

    @ParameterizedTest(name = "{0} after {1}: {2}")
    @CsvSource(delimiter = '|', value = {
        "* * * * *         | 2026-12-02T10:15:30 | 2026-12-02T10:16",
        "* * * * *         | 2026-12-02T10:15    | 2026-12-02T10:16",
        "0 3 * * *         | 2026-12-02T10:15    | 2026-12-03T03:00",
        "0 3 * * *         | 2026-12-02T02:59:59 | 2026-12-02T03:00",
        "*/15 * * * *      | 2026-12-02T10:15    | 2026-12-02T10:30",
        "*/15 * * * *      | 2026-12-02T10:59    | 2026-12-02T11:00",
        "5/20 * * * *      | 2026-12-02T10:46    | 2026-12-02T11:05",
        "0,30 9-17/4 * * * | 2026-12-02T13:30    | 2026-12-02T17:00",
        "0 0 1 * *         | 2026-12-02T00:00    | 2027-01-01T00:00",
        "0 0 31 * *        | 2027-01-31T00:00    | 2027-03-31T00:00",
        "0 0 * 2 *         | 2026-12-02T00:00    | 2027-02-01T00:00",
        "0 0 * FEB,jun *   | 2027-02-28T00:00    | 2027-06-01T00:00",
        "30 4 * * MON-FRI  | 2026-12-04T05:00    | 2026-12-07T04:30",
        "0 0 * * 0         | 2026-12-02T00:00    | 2026-12-06T00:00",
        "0 0 * * 7         | 2026-12-02T00:00    | 2026-12-06T00:00",
        "0 0 * * 5-7       | 2026-12-05T00:00    | 2026-12-06T00:00",
        "59 23 31 12 *     | 2026-12-31T23:59    | 2027-12-31T23:59",
        "*/2 * * * * *     | 2026-12-02T10:15:30 | 2026-12-02T10:15:32",
        "*/2 * * * * *     | 2026-12-02T10:15:31 | 2026-12-02T10:15:32",
        "0 0 12 * * *      | 2026-12-02T12:00    | 2026-12-03T12:00",
        "15,45 * * * * *   | 2026-12-02T10:15:45 | 2026-12-02T10:16:15",
    })
    void theNextTime(String expression, String after, String expected) {
        assertEquals(expected, next(expression.trim(), after.trim()));
    }

    @Test
    void february29thComesEveryLeapYear() {
        assertEquals("2028-02-29T00:00", next("0 0 29 2 *", "2026-12-02T00:00"));
        assertEquals("2032-02-29T00:00", next("0 0 29 2 *", "2028-02-29T00:00"));
        // 2100 is no leap year: from 2096 the next is 2104
        assertEquals("2104-02-29T00:00", next("0 0 29 2 *", "2096-02-29T00:00"));
    }

    @Test
    void dayOfMonthOrDayOfWeekWhenBothAreRestrictedAsVixieCron() {
        // the 13th and every Friday (2026-12-04 and 11 are Fridays, the 13th a Sunday)
        assertEquals(List.of("2026-12-04T00:00Z", "2026-12-11T00:00Z", "2026-12-13T00:00Z", "2026-12-18T00:00Z"),
                times("0 0 13 * FRI", at("2026-12-02T00:00", UTC), 4));
        // a day-of-week that starts with * ANDs: */1 is every day of the week, so only the 13th counts
        assertEquals(List.of("2026-12-13T00:00Z", "2027-01-13T00:00Z"), times("0 0 13 * */1", at("2026-12-02T00:00", UTC), 2));
        // day-of-month * and a weekday: only that weekday
        assertEquals(List.of("2026-12-04T00:00Z", "2026-12-11T00:00Z"), times("0 0 * * 5", at("2026-12-02T00:00", UTC), 2));
        // both restricted, the day-of-month in February only: Feb 29 or any Monday of February
        assertEquals(List.of("2027-02-01T00:00Z", "2027-02-08T00:00Z"), times("0 0 29 2 MON", at("2026-12-02T00:00", UTC), 2));
    }

    @Test
    void aTimeTheClocksSkipFiresOnceWhenTheyJump() {
        // Paris, 2027-03-28: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day
        assertEquals(List.of("2027-03-27T02:30+01:00", "2027-03-28T03:00+02:00", "2027-03-29T02:30+02:00"),
                times("30 2 * * *", at("2027-03-27T00:00", PARIS), 3));
        // every minute of the skipped hour: the jump once, then 03:01
        assertEquals(List.of("2027-03-28T01:59+01:00", "2027-03-28T03:00+02:00", "2027-03-28T03:01+02:00"),
                times("* * * * *", at("2027-03-28T01:58", PARIS), 3));
    }

    @Test
    void aTimeThatHappensTwiceFiresOnceTheFirstTime() {
        // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice
        assertEquals(List.of("2026-10-31T01:30-04:00", "2026-11-01T01:30-04:00", "2026-11-02T01:30-05:00"),
                times("30 1 * * *", at("2026-10-31T00:00", NEW_YORK), 3));
        // during the second 01:xx, every-minute does not fire again until 02:00
        ZonedDateTime secondPass = LocalDateTime.parse("2026-11-01T01:10").atZone(NEW_YORK).withLaterOffsetAtOverlap();
        assertEquals("-05:00", secondPass.getOffset().toString());
        assertEquals(List.of("2026-11-01T02:00-05:00"), times("* * * * *", secondPass, 1));
        // an hourly schedule across the fall back: 00:00, 01:00 (EDT), 02:00 (EST): one hour apart, then two
        assertEquals(List.of("2026-11-01T00:00-04:00", "2026-11-01T01:00-04:00", "2026-11-01T02:00-05:00"),
                times("0 * * * *", at("2026-10-31T23:30", NEW_YORK), 3));
    }

    @Test
    void theNextTimeIsStrictlyLaterAndInTheGivenZone() {
        CronSchedule every = CronSchedule.parse("* * * * * *");
        ZonedDateTime now = at("2026-12-02T10:15:30.500", PARIS);
        ZonedDateTime next = every.next(now);
        assertEquals(at("2026-12-02T10:15:31", PARIS), next);
        assertTrue(next.isAfter(now));
    }

    @ParameterizedTest(name = "''{0}''")
    @ValueSource(strings = {
        "", "* * * *", "* * * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
        "* * * 0 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * * FOO *", "* * * * MONDAY",
        "1,,2 * * * *", "-1 * * * *", "* * 30 2 *", "* * 31 4,6,9,11 *", "60 * * * * *", "1.5 * * * *",
        "*/ * * * *", "L * * * *", "? * * * *",
    })
    void aBadExpressionIsRefusedInOneLineThatQuotesIt(String expression) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse(expression));
        assertTrue(e.getMessage().startsWith("cron expression '" + expression + "'"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aBadFieldIsNamed() {
        assertEquals("cron expression '0 25 * * *': bad hour '25': must be between 0 and 23",
                assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse("0 25 * * *")).getMessage());
        assertEquals("cron expression '* * 30 2 *' never matches: no month it names has the day it names",
                assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse("* * 30 2 *")).getMessage());
    }

    @Test
    void namesAndNumbersAreTheSame() {
        assertEquals(CronSchedule.parse("0 0 * 1-3 1-5").next(at("2026-12-02T00:00", UTC)),
                CronSchedule.parse("0 0 * jan-MAR Mon-fri").next(at("2026-12-02T00:00", UTC)));
        assertEquals("0 3 * * *", CronSchedule.parse("  0   3 * * *  ").toString());
    }
}
