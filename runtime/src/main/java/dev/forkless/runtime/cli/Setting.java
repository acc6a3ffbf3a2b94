package dev.forkless.runtime.cli;

import dev.forkless.runtime.ForklessConfig;
import dev.forkless.runtime.Limit;
import dev.forkless.runtime.log.LogSettings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One setting of a config file: its key, the command-line flag (or positional parameter) it stands for,
 * the type of its value, and how its default is written. {@link #ALL} is the whole table: a new setting is
 * one line here, its component in {@link ForklessConfig}, and its flag in {@link Main}.
 *
 * @param key   the key in the file
 * @param flag  the option's longest name, or the positional parameter's label
 * @param type  what the value may be
 * @param limit its range, or null
 * @param shown its value in a config as the command line writes it; null (or a null answer): no default
 */
record Setting(String key, String flag, Type type, Limit limit, Function<ForklessConfig, String> shown) {

    Setting(String key, String flag, Type type, Function<ForklessConfig, String> shown) {
        this(key, flag, type, null, shown);
    }

    /**
     * The default as the command line writes it and docs/configuration.md shows it, read from
     * {@link ForklessConfig#DEFAULTS}.
     *
     * @return the default, or null when there is none (the setting is off or empty without a value)
     */
    String defaultText() {
        return shown == null ? null : shown.apply(ForklessConfig.DEFAULTS);
    }

    /**
     * Checks a converted value against the setting's {@link Limit}, the same table the command line uses
     * (and a cron expression against its syntax).
     *
     * @param value the value as {@link Type#convert} gave it
     * @throws IllegalArgumentException {@code KEY must be between MIN and MAX, not VALUE}, or
     *                                  {@code KEY: cron expression '...': ...}
     */
    void checkLimit(Object value) {
        if (type == Type.CRON && value instanceof String text) {
            try {
                Main.parseCron(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(key + e.getMessage().substring("--cron-restart".length()), e);
            }
        }
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
            new Setting("app", "APP.jar", Type.PATH, null),
            new Setting("name", "--name", Type.TEXT, null),
            new Setting("args", "ARGS", Type.TEXTS, c -> "[]"),
            new Setting("isolates", "--isolates", Type.COPIES, Limit.COPIES,
                    c -> c.copies() == ForklessConfig.maxCopies() ? "max" : String.valueOf(c.copies())),
            new Setting("mode", "--mode", Type.MODE, c -> c.mode().name().toLowerCase(Locale.ROOT)),
            new Setting("standby", "--standby", Type.COUNT, Limit.STANDBY, c -> String.valueOf(c.standby())),
            new Setting("jvmArgs", "--jvm-arg", Type.TEXTS, c -> list(c.jvmArgs())),
            new Setting("readyTimeout", "--ready-timeout", Type.DURATION, Limit.READY_TIMEOUT,
                    c -> Limit.text(c.readyTimeout())),
            new Setting("drainTimeout", "--drain-timeout", Type.DURATION, Limit.DRAIN_TIMEOUT,
                    c -> Limit.text(c.restartPolicy().drainTimeout())),
            new Setting("killTimeout", "--kill-timeout", Type.DURATION, Limit.DRAIN_TIMEOUT,
                    c -> Limit.text(c.restartPolicy().unloadGrace())),
            new Setting("minUptime", "--min-uptime", Type.DURATION, Limit.MIN_UPTIME,
                    c -> Limit.text(c.restartPolicy().minUptime())),
            new Setting("maxRestarts", "--max-restarts", Type.COUNT, Limit.MAX_RESTARTS,
                    c -> String.valueOf(c.restartPolicy().maxRestarts())),
            new Setting("restartDelay", "--restart-delay", Type.DURATION, Limit.RESTART_DELAY,
                    c -> Limit.text(c.restartPolicy().initialDelay())),
            new Setting("maxRestartDelay", "--max-restart-delay", Type.DURATION, Limit.MAX_RESTART_DELAY,
                    c -> Limit.text(c.restartPolicy().maxDelay())),
            new Setting("restartBackoff", "--restart-backoff", Type.BACKOFF,
                    c -> c.restartPolicy().fixedDelay() ? "fixed" : "exponential"),
            new Setting("autorestart", "--autorestart", Type.BOOLEAN, c -> String.valueOf(c.restartPolicy().autorestart())),
            new Setting("stopExitCodes", "--stop-exit-codes", Type.TEXTS,
                    c -> list(c.restartPolicy().stopExitCodes().stream().sorted().map(String::valueOf).toList())),
            new Setting("watch", "--watch", Type.BOOLEAN, c -> String.valueOf(c.watch())),
            new Setting("watchDelay", "--watch-delay", Type.DURATION, Limit.WATCH_DELAY, c -> Limit.text(c.watchDelay())),
            new Setting("warmUp", "--warm-up", Type.TEXT, c -> c.warmUp() == null ? "off" : c.warmUp()),
            new Setting("cronRestart", "--cron-restart", Type.CRON,
                    c -> c.cronRestart() == null ? null : c.cronRestart().expression()),
            new Setting("hangTimeout", "--hang-timeout", Type.DURATION, Limit.HANG_TIMEOUT,
                    c -> Limit.text(c.hangTimeout())),
            new Setting("maxMemory", "--max-memory", Type.SIZE, Limit.MAX_MEMORY,
                    c -> c.maxMemory() == 0 ? null : Limit.sizeText(c.maxMemory())),
            new Setting("metering", "--metering", Type.BOOLEAN, c -> String.valueOf(c.metering())),
            new Setting("loopChecks", "--loop-checks", Type.BOOLEAN, c -> String.valueOf(c.loopChecks())),
            new Setting("escalate", "--escalate", Type.BOOLEAN, c -> String.valueOf(c.escalate())),
            new Setting("escalateWindow", "--escalate-window", Type.DURATION, Limit.ESCALATE_WINDOW,
                    c -> Limit.text(c.escalateWindow())),
            new Setting("logs", "--logs", Type.PATH, c -> c.logs() == null ? null : c.logs().dir().toString()),
            new Setting("mergeLogs", "--merge-logs", Type.BOOLEAN, c -> String.valueOf(logs(c).merge())),
            new Setting("logFormat", "--log-format", Type.LOG_FORMAT,
                    c -> logs(c).format().name().toLowerCase(Locale.ROOT)),
            new Setting("logDateFormat", "--log-date-format", Type.DATE_FORMAT, c -> logs(c).dateFormat()),
            new Setting("logMaxSize", "--log-max-size", Type.SIZE, Limit.LOG_MAX_SIZE,
                    c -> Limit.sizeText(logs(c).maxSize())),
            new Setting("logKeep", "--log-keep", Type.POSITIVE, Limit.LOG_KEEP, c -> String.valueOf(logs(c).keep())),
            new Setting("admin", "--admin", Type.TEXT, null),
            new Setting("adminToken", "--admin-token", Type.TEXT, Limit.ADMIN_TOKEN, null),
            new Setting("adminOpenProbes", "--admin-open-probes", Type.BOOLEAN, c -> "false"),
            new Setting("pidFile", "--pid-file", Type.PATH, null),
            new Setting("consoleEscapes", "--console-escapes", Type.BOOLEAN, c -> String.valueOf(c.consoleEscapes())),
            new Setting("sharedState", "--shared-state", Type.PATH,
                    c -> c.sharedStateFile() == null ? null : c.sharedStateFile().toString()),
            new Setting("inbox", "--inbox", Type.POSITIVE, Limit.INBOX, c -> String.valueOf(c.inboxCapacity())),
            new Setting("inboxFull", "--inbox-full", Type.TEXT, c -> c.overflow().name().toLowerCase(Locale.ROOT)));

    /** The log settings of a config, or the defaults of log files ({@link LogSettings#in}) when it has none. */
    private static LogSettings logs(ForklessConfig config) {
        return config.logs() != null ? config.logs() : LogSettings.in(Path.of("."));
    }

    private static String list(List<String> values) {
        return "[" + String.join(", ", values) + "]";
    }

    /** @return the setting of an option's longest name, or null */
    static Setting ofFlag(String flag) {
        return ALL.stream().filter(s -> s.flag.equals(flag)).findFirst().orElse(null);
    }

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
        BACKOFF("exponential or fixed", (n, base) -> n.isTextual() && List.of("exponential", "fixed")
                .contains(n.textValue().trim().toLowerCase(Locale.ROOT)) ? n.textValue() : null),
        LOG_FORMAT("text or json", (n, base) -> n.isTextual() && valid(() -> LogSettings.parseFormat(n.textValue()))
                ? n.textValue() : null),
        SIZE("a size such as 10MB or 512KB", (n, base) -> n.isIntegralNumber() && n.canConvertToLong() && n.longValue() >= 0
                ? n.asText() : n.isTextual() && Limit.isSize(n.textValue()) ? n.textValue() : null),
        DATE_FORMAT("a date format such as yyyy-MM-dd HH:mm:ss.SSS", (n, base) -> n.isTextual()
                && valid(() -> LogSettings.in(Path.of(".")).withDateFormat(n.textValue())) ? n.textValue() : null),
        CRON("a cron expression such as \"0 3 * * *\"", (n, base) -> n.isTextual() ? n.textValue() : null),
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
