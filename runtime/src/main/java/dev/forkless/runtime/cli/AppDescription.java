package dev.forkless.runtime.cli;

import dev.forkless.runtime.admin.SecretValues;
import dev.forkless.runtime.log.TerminalText;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The sections {@code forkless describe} prints from {@code GET /api/app}: the app, its settings, its
 * environment (a secret's value masked here too, whatever the runtime sent), and one block per copy.
 */
final class AppDescription {

    private AppDescription() {
    }

    /**
     * @param app   the object of {@code GET /api/app}
     * @param admin the admin API's URL it came from
     * @return the lines to print
     */
    static List<String> render(JsonNode app, String admin) {
        List<String> lines = new ArrayList<>();
        String name = text(app.path("name"));
        lines.add(name + " (runtime pid " + app.path("pid").asText() + ", up "
                + (app.hasNonNull("uptimeMs") ? WorkerTable.duration(app.get("uptimeMs").asLong()) : "?") + ")");
        List<Map.Entry<String, String>> about = new ArrayList<>();
        about.add(Map.entry("jar", text(app.path("jar"))));
        about.add(Map.entry("args", words(app.path("args"))));
        about.add(Map.entry("mode", text(app.path("mode"))));
        about.add(Map.entry("copies", app.path("copies").asText() + " serving, " + app.path("standby").asText()
                + " standby"));
        about.add(Map.entry("listening", words(app.path("addresses"))));
        about.add(Map.entry("admin", admin));
        about.add(Map.entry("logs", app.hasNonNull("logs") ? text(app.get("logs")) : "- (console only)"));
        about.add(Map.entry("reloads", app.path("reloads").asText()));
        about.add(Map.entry("restarts", app.path("restarts").asText()));
        section(lines, about);

        JsonNode s = app.path("settings");
        List<Map.Entry<String, String>> settings = new ArrayList<>();
        settings.add(Map.entry("drain timeout", millis(s.path("drainTimeoutMs"))));
        settings.add(Map.entry("kill timeout", millis(s.path("killTimeoutMs"))));
        settings.add(Map.entry("ready timeout", millis(s.path("readyTimeoutMs"))));
        settings.add(Map.entry("hang timeout", s.path("hangTimeoutMs").asLong() == 0 ? "off" : millis(s.path("hangTimeoutMs"))));
        settings.add(Map.entry("autorestart", s.path("autorestart").asBoolean() ? "on" : "off"));
        settings.add(Map.entry("restart back-off", "fixed".equals(s.path("restartBackoff").asText())
                ? "fixed, " + millis(s.path("restartDelayMs"))
                : "exponential, " + millis(s.path("restartDelayMs")) + " up to " + millis(s.path("maxRestartDelayMs"))));
        settings.add(Map.entry("crash-loop guard", "errored after " + s.path("maxRestarts").asText()
                + " restarts in a row of copies that ran under " + millis(s.path("minUptimeMs"))));
        settings.add(Map.entry("stop exit codes", s.path("stopExitCodes").isEmpty() ? "-" : words(s.path("stopExitCodes"))));
        settings.add(Map.entry("cron restart", s.hasNonNull("cronRestart") ? text(s.get("cronRestart")) : "-"));
        settings.add(Map.entry("max memory", s.hasNonNull("maxMemoryBytes")
                ? WorkerTable.bytes(s.get("maxMemoryBytes").asLong()) : "no limit"));
        settings.add(Map.entry("watch", s.path("watch").asBoolean() ? "on" : "off"));
        lines.add("");
        lines.add("settings");
        section(lines, settings);

        lines.add("");
        lines.add("environment");
        List<Map.Entry<String, String>> env = new ArrayList<>();
        app.path("env").properties().forEach(e -> env.add(Map.entry(text(e.getKey()),
                SecretValues.shown(e.getKey(), text(e.getValue())))));
        if (env.isEmpty()) {
            lines.add("  (none besides the runtime's own)");
        }
        section(lines, env);

        lines.add("");
        lines.add("copies");
        if (app.path("workers").isEmpty()) {
            lines.add("  (none)");
        }
        for (JsonNode w : app.path("workers")) {
            lines.add("  copy " + text(w.path("id")) + ": slot " + text(w.path("slot"))
                    + (w.hasNonNull("instance") ? ", instance " + w.get("instance").asText() : "") + ", "
                    + text(w.path("state")));
            List<Map.Entry<String, String>> copy = new ArrayList<>();
            copy.add(Map.entry("pid", w.path("pid").asLong() == 0 ? "-" : w.path("pid").asText()
                    + ("process".equals(w.path("mode").asText()) ? "" : " (the runtime's)")));
            copy.add(Map.entry("uptime", WorkerTable.duration(w.path("uptimeMs").asLong())));
            copy.add(Map.entry("restarts", w.path("restarts").asText() + " (of its slot)"));
            copy.add(Map.entry("requests", w.path("requests").asText()));
            copy.add(Map.entry("connections", w.path("activeConnections").asText()));
            copy.add(Map.entry("cpu", WorkerTable.cpu(w)));
            copy.add(Map.entry("memory", WorkerTable.memory(w)));
            if (w.hasNonNull("lastExit")) {
                copy.add(Map.entry("last exit", text(w.get("lastExit"))));
            }
            List<String> block = new ArrayList<>();
            section(block, copy);
            block.forEach(l -> lines.add("  " + l));
        }
        return lines;
    }

    /** Adds {@code key  value} lines, the values aligned. */
    private static void section(List<String> lines, List<Map.Entry<String, String>> entries) {
        int width = entries.stream().mapToInt(e -> e.getKey().length()).max().orElse(0);
        for (Map.Entry<String, String> e : entries) {
            lines.add(("  " + e.getKey() + " ".repeat(width - e.getKey().length()) + "  " + e.getValue()).stripTrailing());
        }
    }

    /** @return a duration given in milliseconds: {@code 250ms}, {@code 5s}, {@code 1.5s}, {@code 2m} */
    static String millis(JsonNode node) {
        long ms = node.asLong();
        if (ms < 1000) {
            return ms + "ms";
        }
        if (ms % 1000 != 0 && ms < 60_000) {
            return String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
        }
        return WorkerTable.duration(ms);
    }

    private static String words(JsonNode array) {
        List<String> words = new ArrayList<>();
        array.forEach(v -> words.add(text(v)));
        return words.isEmpty() ? "-" : String.join(" ", words);
    }

    /** A value from the runtime, without escape sequences that could redraw the terminal. */
    private static String text(JsonNode node) {
        return text(node.asText());
    }

    private static String text(String s) {
        return TerminalText.clean(s, false);
    }
}
