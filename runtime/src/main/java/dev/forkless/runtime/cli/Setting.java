package dev.forkless.runtime.cli;

import dev.forkless.runtime.Limit;
import dev.forkless.runtime.log.LogSettings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One setting of a config file: its key, the command-line flag (or positional parameter) it stands for,
 * and the type of its value. {@link #ALL} is the whole table: a new setting is one line here, plus its
 * flag in {@link Main}.
 *
 * @param key  the key in the file
 * @param flag the option's longest name, or the positional parameter's label
 * @param type what the value may be
 */
record Setting(String key, String flag, Type type, Limit limit) {

    Setting(String key, String flag, Type type) {
        this(key, flag, type, null);
    }

    /**
     * Checks a converted value against the setting's {@link Limit}, the same table the command line uses.
     *
     * @param value the value as {@link Type#convert} gave it
     * @throws IllegalArgumentException {@code KEY must be between MIN and MAX, not VALUE}
     */
    void checkLimit(Object value) {
        if (limit == null || !(value instanceof String text)) {
            return;
        }
        switch (limit.kind()) {
            case COUNT -> {
                if (!(type == Type.COPIES && text.trim().equalsIgnoreCase("max"))) {
                    limit.parseCount(key, text);
                }
            }
            case DURATION -> limit.parseDuration(key, text);
            case SIZE -> limit.parseSize(key, text);
            case LENGTH -> limit.check(key + " (its length)", text.length());
        }
    }

    /** Every key a config file may hold besides {@code env} and {@code env_<name>}, in the order of the docs. */
    static final List<Setting> ALL = List.of(
            new Setting("app", "APP.jar", Type.PATH),
            new Setting("args", "ARGS", Type.TEXTS),
            new Setting("isolates", "--isolates", Type.COPIES, Limit.COPIES),
            new Setting("mode", "--mode", Type.MODE),
            new Setting("standby", "--standby", Type.COUNT, Limit.STANDBY),
            new Setting("jvmArgs", "--jvm-arg", Type.TEXTS),
            new Setting("readyTimeout", "--ready-timeout", Type.DURATION, Limit.READY_TIMEOUT),
            new Setting("drainTimeout", "--drain-timeout", Type.DURATION, Limit.DRAIN_TIMEOUT),
            new Setting("minUptime", "--min-uptime", Type.DURATION, Limit.MIN_UPTIME),
            new Setting("maxRestarts", "--max-restarts", Type.COUNT, Limit.MAX_RESTARTS),
            new Setting("restartDelay", "--restart-delay", Type.DURATION, Limit.RESTART_DELAY),
            new Setting("maxRestartDelay", "--max-restart-delay", Type.DURATION, Limit.MAX_RESTART_DELAY),
            new Setting("watch", "--watch", Type.BOOLEAN),
            new Setting("watchDelay", "--watch-delay", Type.DURATION, Limit.WATCH_DELAY),
            new Setting("hangTimeout", "--hang-timeout", Type.DURATION, Limit.HANG_TIMEOUT),
            new Setting("maxMemory", "--max-memory", Type.SIZE, Limit.MAX_MEMORY),
            new Setting("loopChecks", "--loop-checks", Type.BOOLEAN),
            new Setting("escalate", "--escalate", Type.BOOLEAN),
            new Setting("escalateWindow", "--escalate-window", Type.DURATION, Limit.ESCALATE_WINDOW),
            new Setting("logs", "--logs", Type.PATH),
            new Setting("mergeLogs", "--merge-logs", Type.BOOLEAN),
            new Setting("logFormat", "--log-format", Type.LOG_FORMAT),
            new Setting("logDateFormat", "--log-date-format", Type.DATE_FORMAT),
            new Setting("logMaxSize", "--log-max-size", Type.SIZE, Limit.LOG_MAX_SIZE),
            new Setting("logKeep", "--log-keep", Type.POSITIVE, Limit.LOG_KEEP),
            new Setting("admin", "--admin", Type.TEXT),
            new Setting("adminToken", "--admin-token", Type.TEXT, Limit.ADMIN_TOKEN),
            new Setting("adminOpenProbes", "--admin-open-probes", Type.BOOLEAN),
            new Setting("consoleEscapes", "--console-escapes", Type.BOOLEAN),
            new Setting("sharedState", "--shared-state", Type.PATH),
            new Setting("inbox", "--inbox", Type.POSITIVE, Limit.INBOX),
            new Setting("inboxFull", "--inbox-full", Type.TEXT));

    /** @return the setting of a key, or null */
    static Setting of(String key) {
        return ALL.stream().filter(s -> s.key.equals(key)).findFirst().orElse(null);
    }

    /**
     * What a value may be, and how it becomes the value of the option's field ({@code null}: not valid).
     * Paths are resolved against the config file's folder.
     */
    enum Type {
        COPIES("a number or \"max\"", (n, base) -> n.canConvertToInt() && n.isIntegralNumber() && n.intValue() >= 1
                ? n.asText() : n.isTextual() && n.textValue().trim().equalsIgnoreCase("max") ? "max" : null),
        COUNT("a whole number, 0 or more", (n, base) -> n.isIntegralNumber() && n.canConvertToInt() && n.intValue() >= 0
                ? n.asText() : null),
        POSITIVE("a whole number, 1 or more", (n, base) -> n.isIntegralNumber() && n.canConvertToInt() && n.intValue() >= 1
                ? n.asText() : null),
        DURATION("a duration such as 5s or 500ms", (n, base) -> n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0
                ? n.asText() + "ms" : n.isTextual() && Limit.isDuration(n.textValue()) ? n.textValue() : null),
        BOOLEAN("true or false", (n, base) -> n.isBoolean() ? n.booleanValue() : null),
        MODE("isolate or process", (n, base) -> n.isTextual() && List.of("isolate", "process")
                .contains(n.textValue().trim().toLowerCase(Locale.ROOT)) ? n.textValue() : null),
        LOG_FORMAT("text or json", (n, base) -> n.isTextual() && valid(() -> LogSettings.parseFormat(n.textValue()))
                ? n.textValue() : null),
        SIZE("a size such as 10MB or 512KB", (n, base) -> n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0
                ? n.asText() : n.isTextual() && Limit.isSize(n.textValue()) ? n.textValue() : null),
        DATE_FORMAT("a date format such as yyyy-MM-dd HH:mm:ss.SSS", (n, base) -> n.isTextual()
                && valid(() -> LogSettings.in(Path.of(".")).withDateFormat(n.textValue())) ? n.textValue() : null),
        TEXT("a string", (n, base) -> n.isTextual() || n.isNumber() || n.isBoolean() ? n.asText() : null),
        PATH("a path", (n, base) -> n.isTextual() && !n.textValue().isBlank() ? base.resolve(n.textValue()) : null),
        TEXTS("a list of strings", (n, base) -> {
            if (!n.isArray()) {
                return null;
            }
            List<String> values = new ArrayList<>();
            for (JsonNode item : n) {
                if (!(item.isTextual() || item.isNumber() || item.isBoolean())) {
                    return null;
                }
                values.add(item.asText());
            }
            return values;
        });

        private final String expected;
        private final BiFunction<JsonNode, Path, Object> convert;

        Type(String expected, BiFunction<JsonNode, Path, Object> convert) {
            this.expected = expected;
            this.convert = convert;
        }

        /** @return what a value must be, for messages */
        String expected() {
            return expected;
        }

        /**
         * @param value the value in the file
         * @param base  the config file's folder
         * @return the field's value, or null when the value is not valid
         */
        Object convert(JsonNode value, Path base) {
            return convert.apply(value, base);
        }

        private static boolean valid(Runnable check) {
            try {
                check.run();
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
    }
}
