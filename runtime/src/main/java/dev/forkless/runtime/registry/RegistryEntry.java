package dev.forkless.runtime.registry;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What one running runtime tells the others on its machine, in its file of the {@link RuntimeRegistry}:
 * which process it is, which apps it runs and how, where they listen, where its admin API is.
 *
 * <pre>{@code
 * {"format":1,"pid":4242,"started":"2026-12-02T16:00:00.120Z","apps":["demo"],"mode":"isolate",
 *  "copies":2,"addresses":["0.0.0.0:8080"],"admin":"http://127.0.0.1:9615",
 *  "tokenFile":"/home/me/.forkless/admin-9615.token","logs":null}
 * }</pre>
 *
 * @param pid       the runtime's process id
 * @param started   when that process started, as the OS says ({@link ProcessHandle.Info#startInstant}):
 *                  with the pid, it tells the runtime from a later process that got its pid
 * @param apps      the names of the apps it runs (an app's name: its jar's file name without {@code .jar})
 * @param mode      {@code isolate} or {@code process}
 * @param copies    serving copies
 * @param addresses the addresses the apps listen on, {@code host:port}
 * @param admin     the admin API's base URL, {@code http://host:port}; empty when it has none
 * @param tokenFile the admin token's file; empty when the token was given (or there is no admin API)
 * @param logs      the folder of its log files ({@code --logs}); empty when it writes none
 * @param details   each app's own mode, copies and addresses, in a runtime of several apps ({@code appDetails}
 *                  in the file); empty for a runtime of one app, whose fields above are its app's
 * @param startTicks when the process started in clock ticks since boot ({@code /proc/PID/stat}, Linux): unlike
 *                  {@code started}, no step of the wall clock moves it; empty where unknown
 */
public record RegistryEntry(long pid, Optional<Instant> started, List<String> apps, String mode, int copies,
                            List<String> addresses, Optional<String> admin, Optional<Path> tokenFile,
                            Optional<Path> logs, List<AppDetail> details, java.util.OptionalLong startTicks) {

    /**
     * One app of a runtime of several.
     *
     * @param name      its name
     * @param mode      {@code isolate} or {@code process}
     * @param copies    its serving copies
     * @param addresses where it listens, {@code host:port}
     */
    public record AppDetail(String name, String mode, int copies, List<String> addresses) {
        public AppDetail {
            Objects.requireNonNull(name);
            Objects.requireNonNull(mode);
            addresses = List.copyOf(addresses);
        }
    }

    /** An entry without its start in clock ticks (an older file, or no {@code /proc}). */
    public RegistryEntry(long pid, Optional<Instant> started, List<String> apps, String mode, int copies,
                         List<String> addresses, Optional<String> admin, Optional<Path> tokenFile,
                         Optional<Path> logs, List<AppDetail> details) {
        this(pid, started, apps, mode, copies, addresses, admin, tokenFile, logs, details, java.util.OptionalLong.empty());
    }

    /** An entry of a runtime of one app. */
    public RegistryEntry(long pid, Optional<Instant> started, List<String> apps, String mode, int copies,
                         List<String> addresses, Optional<String> admin, Optional<Path> tokenFile,
                         Optional<Path> logs) {
        this(pid, started, apps, mode, copies, addresses, admin, tokenFile, logs, List.of());
    }

    /** @return the details of the app of that name, if this entry has them */
    public Optional<AppDetail> detail(String app) {
        return details.stream().filter(d -> d.name().equals(app)).findFirst();
    }

    /** The version of the file format; a reader skips files of another. */
    static final int FORMAT = 1;

    public RegistryEntry {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid " + pid + " is no process id");
        }
        Objects.requireNonNull(started);
        apps = List.copyOf(apps);
        Objects.requireNonNull(mode);
        addresses = List.copyOf(addresses);
        Objects.requireNonNull(admin);
        Objects.requireNonNull(tokenFile);
        Objects.requireNonNull(logs);
        details = List.copyOf(details);
        Objects.requireNonNull(startTicks);
    }

    /** @return this entry with the process's start in clock ticks since boot */
    public RegistryEntry withStartTicks(java.util.OptionalLong ticks) {
        return new RegistryEntry(pid, started, apps, mode, copies, addresses, admin, tokenFile, logs, details, ticks);
    }

    /** @return whether it runs the app of that name */
    public boolean runs(String app) {
        return apps.contains(app);
    }

    /** @return how long it has run at {@code now}; zero when its start is unknown */
    public Duration uptime(Instant now) {
        return started.map(s -> Duration.between(s, now)).filter(d -> !d.isNegative()).orElse(Duration.ZERO);
    }

    /** @return this entry with another number of serving copies */
    public RegistryEntry withCopies(int n) {
        return new RegistryEntry(pid, started, apps, mode, n, addresses, admin, tokenFile, logs, details, startTicks);
    }

    /** @return this entry with another number of serving copies of one app of several (and of all) */
    public RegistryEntry withAppCopies(String app, int n) {
        List<AppDetail> next = details.stream().map(d -> d.name().equals(app)
                ? new AppDetail(d.name(), d.mode(), n, d.addresses()) : d).toList();
        return new RegistryEntry(pid, started, apps, mode, next.stream().mapToInt(AppDetail::copies).sum(), addresses,
                admin, tokenFile, logs, next, startTicks);
    }

    /** @return this entry with another mode (after {@code --escalate} moved the copies to processes) */
    public RegistryEntry withMode(String newMode) {
        return new RegistryEntry(pid, started, apps, newMode, copies, addresses, admin, tokenFile, logs, details, startTicks);
    }

    /** @return the entry as the JSON object its file holds */
    public ObjectNode toJsonTree() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode node = json.createObjectNode();
        node.put("format", FORMAT);
        node.put("pid", pid);
        node.put("started", started.map(Instant::toString).orElse(null));
        if (startTicks.isPresent()) {
            node.put("startTicks", startTicks.getAsLong());
        }
        ArrayNode appNames = node.putArray("apps");
        apps.forEach(appNames::add);
        node.put("mode", mode);
        node.put("copies", copies);
        ArrayNode listening = node.putArray("addresses");
        addresses.forEach(listening::add);
        node.put("admin", admin.orElse(null));
        node.put("tokenFile", tokenFile.map(Path::toString).orElse(null));
        node.put("logs", logs.map(Path::toString).orElse(null));
        if (!details.isEmpty()) {
            ArrayNode array = node.putArray("appDetails");
            for (AppDetail d : details) {
                ObjectNode one = array.addObject();
                one.put("name", d.name());
                one.put("mode", d.mode());
                one.put("copies", d.copies());
                ArrayNode at = one.putArray("addresses");
                d.addresses().forEach(at::add);
            }
        }
        return node;
    }

    /** @return the file's content: one JSON object */
    public String toJson() {
        try {
            return new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJsonTree()) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads a registry file's content.
     *
     * @param text the content
     * @return the entry
     * @throws IllegalArgumentException naming what is wrong, when it is no entry of this format
     */
    public static RegistryEntry parse(String text) {
        JsonNode node;
        try {
            node = new ObjectMapper().readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        if (node.path("format").asInt(-1) != FORMAT) {
            throw new IllegalArgumentException("format " + node.path("format") + ", not " + FORMAT);
        }
        if (!node.path("pid").canConvertToLong() || !node.path("copies").canConvertToInt()
                || !node.path("mode").isTextual()) {
            throw new IllegalArgumentException("no pid, copies or mode");
        }
        try {
            return new RegistryEntry(node.get("pid").asLong(),
                    text(node, "started").map(Instant::parse),
                    strings(node, "apps"),
                    node.get("mode").asText(),
                    node.get("copies").asInt(),
                    strings(node, "addresses"),
                    text(node, "admin"),
                    text(node, "tokenFile").map(Path::of),
                    text(node, "logs").map(Path::of),
                    details(node),
                    node.path("startTicks").canConvertToLong() && node.path("startTicks").isIntegralNumber()
                            ? java.util.OptionalLong.of(node.get("startTicks").asLong()) : java.util.OptionalLong.empty());
        } catch (DateTimeParseException | InvalidPathException e) {
            throw new IllegalArgumentException("bad value: " + e.getMessage());
        }
    }

    /** The {@code appDetails} of a runtime of several apps; none when absent or not as written. */
    private static List<AppDetail> details(JsonNode node) {
        List<AppDetail> details = new ArrayList<>();
        for (JsonNode d : node.path("appDetails")) {
            if (!d.path("name").isTextual() || !d.path("mode").isTextual() || !d.path("copies").canConvertToInt()
                    || !d.path("addresses").isArray()) {
                return List.of();
            }
            details.add(new AppDetail(d.get("name").asText(), d.get("mode").asText(), d.get("copies").asInt(),
                    strings(d, "addresses")));
        }
        return details;
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() ? Optional.of(value.asText()) : Optional.empty();
    }

    private static List<String> strings(JsonNode node, String field) {
        JsonNode array = node.path(field);
        if (!array.isArray()) {
            throw new IllegalArgumentException("no " + field + " list");
        }
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }
}
