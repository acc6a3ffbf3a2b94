package dev.forkless.runtime.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/** The aligned table of copies that {@code list} and {@code monit} print. */
final class WorkerTable {

    private static final List<String> HEADER = List.of("ID", "SLOT", "INST", "MODE", "PID", "STATE", "UPTIME", "RESTARTS",
            "REQUESTS", "REQ/S", "CONNS", "CPU", "MEMORY", "LAST EXIT");
    private static final int LAST_EXIT_WIDTH = 48;

    private WorkerTable() {
    }

    /**
     * @param workers the JSON array of {@code GET /api/workers}
     * @param rates   requests per second by copy id, when known (monit)
     * @return the table, one line per copy after the header
     */
    static List<String> render(JsonNode workers, Map<String, Double> rates) {
        List<List<String>> rows = new ArrayList<>();
        java.util.Set<String> apps = new java.util.HashSet<>();
        workers.forEach(w -> apps.add(w.path("app").asText("")));
        boolean severalApps = apps.size() > 1; // a runtime of several apps: which app each copy is of
        List<String> header = new ArrayList<>(HEADER);
        if (severalApps) {
            header.addFirst("APP");
        }
        rows.add(header);
        for (JsonNode w : workers) {
            String id = w.path("id").asText();
            Double rate = rates.get(id);
            List<String> row = new ArrayList<>(List.of(
                    id,
                    w.path("slot").asText(),
                    instance(w.path("slot").asText()),
                    w.path("mode").asText(),
                    w.path("pid").asLong() == 0 ? "-" : w.path("pid").asText(),
                    w.path("state").asText(),
                    duration(w.path("uptimeMs").asLong()),
                    w.path("restarts").asText(),
                    w.path("requests").asText(),
                    rate == null ? "-" : String.format(java.util.Locale.ROOT, "%.1f", rate),
                    w.path("activeConnections").asText(),
                    cpu(w),
                    memory(w),
                    abbreviate(w.path("lastExit").isNull() ? "" : w.path("lastExit").asText())));
            if (severalApps) {
                row.addFirst(w.path("app").asText("-"));
            }
            rows.add(row);
        }
        int[] widths = widths(rows, header.size());
        List<String> lines = new ArrayList<>();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                String cell = row.get(i);
                boolean last = i == row.size() - 1;
                line.append(last ? cell : pad(cell, widths[i])).append(last ? "" : "  ");
            }
            lines.add(line.toString().stripTrailing());
        }
        return lines;
    }

    /**
     * @param slot a copy's slot
     * @return its {@code FORKLESS_INSTANCE}: a serving slot's number - 1 (kept by the slot's next copies);
     *         {@code -} for a standby or a draining copy, which has none
     */
    static String instance(String slot) {
        return slot.matches("\\d{1,9}") ? String.valueOf(Integer.parseInt(slot) - 1) : "-";
    }

    /** A process's CPU time, or an isolate's share of the JVM's CPU (not comparable: named apart). */
    static String cpu(JsonNode w) {
        if (w.hasNonNull("cpuMs")) {
            return String.format(java.util.Locale.ROOT, "%.1fs", w.get("cpuMs").asLong() / 1000.0);
        }
        if (w.hasNonNull("cpuShare")) {
            return String.format(java.util.Locale.ROOT, "%.0f%% of jvm", w.get("cpuShare").asDouble() * 100);
        }
        return "-";
    }

    /**
     * A process's resident memory, or an isolate's estimated kept heap and what it allocates per second
     * (never presented as resident).
     */
    static String memory(JsonNode w) {
        if (w.hasNonNull("memoryBytes")) {
            return bytes(w.get("memoryBytes").asLong()) + " rss";
        }
        if (w.hasNonNull("allocatedBytesPerSecond")) {
            String alloc = "alloc " + bytes(w.get("allocatedBytesPerSecond").asLong()) + "/s";
            return w.hasNonNull("keptHeapBytes") ? "kept ~" + bytes(w.get("keptHeapBytes").asLong()) + " " + alloc : alloc;
        }
        return "-";
    }

    static String duration(long ms) {
        long s = ms / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m" + (s % 60 > 0 ? " " + s % 60 + "s" : "");
        }
        if (s < 86_400) {
            return s / 3600 + "h " + s % 3600 / 60 + "m";
        }
        return s / 86_400 + "d " + s % 86_400 / 3600 + "h";
    }

    static String bytes(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int i = 0;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return i == 0 ? n + " B" : String.format(java.util.Locale.ROOT, "%.1f %s", v, units[i]);
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(width - s.length());
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() <= LAST_EXIT_WIDTH ? one : one.substring(0, LAST_EXIT_WIDTH - 3) + "...";
    }

    /** @return each column's width: its widest cell */
    static int[] widths(List<List<String>> rows, int columns) {
        int[] widths = new int[columns];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        return widths;
    }
}
