package dev.forkless.runtime.cli;

import dev.forkless.runtime.log.TerminalText;
import dev.forkless.runtime.registry.ForklessHome;
import dev.forkless.runtime.registry.RegistryEntry;
import dev.forkless.runtime.registry.RuntimeRegistry;

import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code forkless ls}: every runtime running on this machine and its apps, from the registry of runtimes
 * (their files in {@code ~/.forkless/runtimes}); stale files are left out and removed. Needs no runtime to
 * answer: it reads files, it does not call admin APIs.
 */
@Command(name = "ls", description = "List every runtime running on this machine (of this user) and its apps.")
final class LsCommand implements Callable<Integer> {

    private static final List<String> HEADER = List.of("PID", "APP", "MODE", "COPIES", "ADDRESS", "ADMIN", "UPTIME");

    @Option(names = "--json", description = "Print a JSON array, one object per runtime, instead of the table.")
    boolean json;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    private final PrintStream out;
    private final PrintStream err;

    LsCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public Integer call() {
        RuntimeRegistry registry = RuntimeRegistry.of(ForklessHome.current());
        List<RegistryEntry> live = registry.live();
        Instant now = Instant.now();
        if (json) {
            try {
                out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json(live, now)));
            } catch (JsonProcessingException e) {
                err.println("forkless: " + e.getMessage());
                return ClientCommands.REFUSED;
            }
        } else if (live.isEmpty()) {
            out.println("no runtime runs on this machine (none registered in " + registry.folder() + ")");
        } else {
            table(live, now).forEach(out::println);
        }
        return ClientCommands.DONE;
    }

    /** @return the entries as {@code --json} prints them: each entry's fields and its {@code uptimeMs} */
    static ArrayNode json(List<RegistryEntry> entries, Instant now) {
        ArrayNode array = new ObjectMapper().createArrayNode();
        for (RegistryEntry entry : entries) {
            ObjectNode node = entry.toJsonTree();
            node.remove("format");
            node.put("uptimeMs", entry.uptime(now).toMillis());
            array.add(node);
        }
        return array;
    }

    /** @return the aligned table, one line per app of each runtime after the header */
    static List<String> table(List<RegistryEntry> entries, Instant now) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(HEADER);
        for (RegistryEntry entry : entries) {
            for (String app : entry.apps().isEmpty() ? List.of("-") : entry.apps()) {
                var detail = entry.detail(app); // a runtime of several apps: the app's own figures
                List<String> addresses = detail.map(RegistryEntry.AppDetail::addresses).orElse(entry.addresses());
                rows.add(List.of(
                        String.valueOf(entry.pid()),
                        TerminalText.clean(app, false),
                        detail.map(RegistryEntry.AppDetail::mode).orElse(entry.mode()),
                        String.valueOf(detail.map(RegistryEntry.AppDetail::copies).orElse(entry.copies())),
                        addresses.isEmpty() ? "-" : String.join(",", addresses),
                        entry.admin().orElse("off"),
                        WorkerTable.duration(entry.uptime(now).toMillis()).replace(" ", "")));
            }
        }
        int[] widths = WorkerTable.widths(rows, HEADER.size());
        List<String> lines = new ArrayList<>();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(row.get(i)).append(" ".repeat(widths[i] - row.get(i).length())).append("  ");
            }
            lines.add(line.toString().stripTrailing());
        }
        return lines;
    }
}
