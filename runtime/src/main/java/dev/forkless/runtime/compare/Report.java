package dev.forkless.runtime.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The side-by-side result of {@code --compare}: a table for the console, Markdown and JSON for files. */
final class Report {

    /**
     * One measured quantity in both modes.
     *
     * @param metric  what it is
     * @param unit    its unit
     * @param isolate its value in isolate mode
     * @param process its value in process mode
     */
    record Row(String metric, String unit, double isolate, double process) {
        String ratio() {
            if (isolate == 0) {
                return process == 0 ? "1.00x" : "-";
            }
            return String.format(Locale.ROOT, "%.2fx", process / isolate);
        }
    }

    private final Compare.Config config;
    private final List<Row> rows = new ArrayList<>();
    private final Instant when = Instant.now();

    Report(Compare.Config config, Compare.ModeResult isolate, Compare.ModeResult process) {
        this.config = config;
        rows.add(new Row("time from start to first served request", "ms", isolate.firstRequestMs(), process.firstRequestMs()));
        rows.add(new Row("resident memory of the set, idle", "MB", isolate.rssIdleMb(), process.rssIdleMb()));
        rows.add(new Row("resident memory of the set, after load", "MB", isolate.rssLoadedMb(), process.rssLoadedMb()));
        rows.add(new Row("processes in the set", "count", isolate.processes(), process.processes()));
        rows.add(new Row("throughput", "req/s", isolate.load().throughput(), process.load().throughput()));
        rows.add(new Row("latency p50", "ms", isolate.load().percentileMillis(50), process.load().percentileMillis(50)));
        rows.add(new Row("latency p99", "ms", isolate.load().percentileMillis(99), process.load().percentileMillis(99)));
        rows.add(new Row("failed requests under steady load", "count", isolate.load().failed(), process.load().failed()));
        rows.add(new Row("crash -> replacement serving, warm standby", "ms", isolate.standbyReplaceMs(), process.standbyReplaceMs()));
        rows.add(new Row("crash -> replacement serving, cold (no standby)", "ms", isolate.coldReplaceMs(), process.coldReplaceMs()));
        rows.add(new Row("failed requests, crash injected under load", "count", isolate.crashLoad().failed(), process.crashLoad().failed()));
        rows.add(new Row("requests served in that window", "count", isolate.crashLoad().requests(), process.crashLoad().requests()));
        rows.add(new Row("failed requests, every copy restarted in turn under load", "count",
                isolate.restartLoad().failed(), process.restartLoad().failed()));
        rows.add(new Row("requests served in that window", "count", isolate.restartLoad().requests(), process.restartLoad().requests()));
    }

    List<Row> rows() {
        return List.copyOf(rows);
    }

    private static String number(double value, String unit) {
        if (unit.equals("count")) {
            return String.valueOf(Math.round(value));
        }
        if (unit.equals("req/s")) {
            return String.format(Locale.ROOT, "%.0f", value);
        }
        return String.format(Locale.ROOT, value >= 100 ? "%.0f" : "%.1f", value);
    }

    private String settings() {
        return config.copies() + " copies, " + config.connections() + " connections, load " + config.duration().toMillis()
                + " ms after a " + config.warmup().toMillis() + " ms warm-up on " + config.path() + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, Java " + Runtime.version() + ", load driver: "
                + LoadDriver.NAME;
    }

    /** @return the table for the console */
    String table() {
        StringBuilder s = new StringBuilder();
        s.append("forkless --compare: ").append(config.app().getFileName()).append(" (").append(settings()).append(")\n");
        String format = "%-62s %12s %12s %10s%n";
        s.append(String.format(Locale.ROOT, format, "metric", "isolate", "process", "proc/iso"));
        for (Row row : rows) {
            s.append(String.format(Locale.ROOT, format, row.metric() + " (" + row.unit() + ")",
                    number(row.isolate(), row.unit()), number(row.process(), row.unit()), row.ratio()));
        }
        return s.toString();
    }

    /** @return the report as Markdown */
    String markdown() {
        StringBuilder s = new StringBuilder("# forkless --compare\n\n");
        s.append("App `").append(config.app().getFileName()).append("` on ").append(when).append(": ")
                .append(settings()).append(".\n\n");
        s.append("| metric | unit | isolate | process | process / isolate |\n|---|---|---:|---:|---:|\n");
        for (Row row : rows) {
            s.append("| ").append(row.metric()).append(" | ").append(row.unit()).append(" | ")
                    .append(number(row.isolate(), row.unit())).append(" | ").append(number(row.process(), row.unit()))
                    .append(" | ").append(row.ratio()).append(" |\n");
        }
        return s.toString();
    }

    /** @return the report as JSON */
    String json() {
        StringBuilder s = new StringBuilder("{\n");
        s.append("  \"app\": ").append(quote(config.app().toString())).append(",\n");
        s.append("  \"time\": ").append(quote(when.toString())).append(",\n");
        s.append("  \"copies\": ").append(config.copies()).append(",\n");
        s.append("  \"connections\": ").append(config.connections()).append(",\n");
        s.append("  \"durationMs\": ").append(config.duration().toMillis()).append(",\n");
        s.append("  \"warmupMs\": ").append(config.warmup().toMillis()).append(",\n");
        s.append("  \"path\": ").append(quote(config.path())).append(",\n");
        s.append("  \"cpus\": ").append(Runtime.getRuntime().availableProcessors()).append(",\n");
        s.append("  \"java\": ").append(quote(Runtime.version().toString())).append(",\n");
        s.append("  \"loadDriver\": ").append(quote(LoadDriver.NAME)).append(",\n");
        s.append("  \"rows\": [\n");
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            s.append("    {\"metric\": ").append(quote(row.metric())).append(", \"unit\": ").append(quote(row.unit()))
                    .append(", \"isolate\": ").append(json(row.isolate())).append(", \"process\": ")
                    .append(json(row.process())).append("}").append(i + 1 < rows.size() ? ",\n" : "\n");
        }
        return s.append("  ]\n}\n").toString();
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("compare.json"), json());
        Files.writeString(dir.resolve("compare.md"), markdown());
    }

    private static String json(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? String.valueOf((long) value)
                : String.format(Locale.ROOT, "%.3f", value);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
