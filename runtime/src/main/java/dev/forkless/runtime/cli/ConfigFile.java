package dev.forkless.runtime.cli;

import dev.forkless.runtime.IoReason;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * A config file ({@code forkless.yaml}, or JSON when its name ends in {@code .json}): every setting of
 * the command line by key ({@link Setting#ALL}), plus {@code env} and {@code env_<name>} blocks of
 * variables for the app, {@code --env NAME} choosing one to lay over {@code env}, as PM2's ecosystem
 * file does. Every value is checked when the file is read; a wrong one is reported with the file, line
 * and key: {@code forkless.yaml:7: isolates: expected a number or "max"}.
 */
final class ConfigFile {

    /** The largest config file read: settings are a few lines. */
    static final int MAX_FILE_BYTES = 1 << 20;
    /** The deepest nesting of mappings and lists (the file needs 2). */
    static final int MAX_DEPTH = 16;
    /** The longest key or value. */
    static final int MAX_SCALAR = 64 * 1024;

    private static final String ENV = "env";
    private static final String ENV_PREFIX = "env_";
    private static final String APPS = "apps";
    /** The keys of the runtime itself, not of one app: outside {@code apps} only. */
    static final java.util.Set<String> RUNTIME_KEYS = java.util.Set.of("admin", "adminToken", "adminOpenProbes",
            "consoleEscapes", "pidFile");

    /**
     * One app of the {@code apps} list, its settings laid over the file's top-level ones.
     *
     * @param name the app's name: its {@code name}, else its jar's name without {@code .jar}
     * @param line the line of its entry
     * @param file its settings and env blocks
     */
    record App(String name, int line, ConfigFile file) {
    }

    /** A value in the file, with the line of its key. */
    record Entry(JsonNode value, int line) {
    }

    private final String shown;
    private final Path base;
    private final Map<String, Entry> settings;
    private final Map<String, Map<String, Entry>> environments;
    private final Map<String, Object> values;
    private List<App> apps = List.of();

    private ConfigFile(String shown, Path base, Map<String, Entry> settings, Map<String, Map<String, Entry>> environments) {
        this.shown = shown;
        this.base = base;
        this.settings = settings;
        this.environments = environments;
        this.values = new LinkedHashMap<>();
        for (var e : settings.entrySet()) {
            Setting setting = Setting.of(e.getKey());
            Object value = setting.type().convert(e.getValue().value(), base);
            if (value == null) {
                throw error(e.getValue().line(), e.getKey(), "expected " + setting.type().expected());
            }
            try {
                setting.checkLimit(value);
            } catch (IllegalArgumentException outOfRange) {
                throw new IllegalArgumentException(shown + ":" + e.getValue().line() + ": " + outOfRange.getMessage());
            }
            values.put(e.getKey(), value);
        }
    }

    /**
     * Reads and checks a config file.
     *
     * @param path the file
     * @return the config
     * @throws IllegalArgumentException naming the file, line and key of what is wrong
     */
    static ConfigFile read(Path path) {
        String text;
        try {
            java.nio.file.attribute.BasicFileAttributes attributes =
                    Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class);
            if (attributes.isDirectory()) {
                throw new IllegalArgumentException("cannot read the config file " + path + ": it is a directory");
            }
            if (!attributes.isRegularFile()) {
                // a FIFO would block the start for ever, /dev/zero would never end
                throw new IllegalArgumentException("cannot read the config file " + path + ": not a regular file");
            }
            if (attributes.size() > MAX_FILE_BYTES) {
                throw tooLarge(path);
            }
            byte[] bytes;
            try (java.io.InputStream in = Files.newInputStream(path)) {
                bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            }
            if (bytes.length > MAX_FILE_BYTES) {
                throw tooLarge(path);
            }
            text = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read the config file " + path + ": no such file");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException("cannot read the config file " + path + ": it is not UTF-8 text");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the config file " + path + ": " + IoReason.of(e));
        }
        Path absolute = path.toAbsolutePath();
        Path base = absolute.getParent() == null ? absolute : absolute.getParent();
        return parse(path.toString(), base, text, isJson(path));
    }

    private static IllegalArgumentException tooLarge(Path path) {
        return new IllegalArgumentException("cannot read the config file " + path + ": it is larger than "
                + MAX_FILE_BYTES / 1024 + " KiB (a config file is a few lines)");
    }

    static boolean isJson(Path path) {
        return path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
    }

    /**
     * Parses a config's text.
     *
     * @param shown the file's name in messages
     * @param base  the folder relative paths start from
     * @param text  the text
     * @param json  JSON, else YAML
     * @return the config
     */
    static ConfigFile parse(String shown, Path base, String text, boolean json) {
        if (text.length() > MAX_FILE_BYTES) {
            throw new IllegalArgumentException(shown + ": larger than " + MAX_FILE_BYTES / 1024 + " KiB");
        }
        StreamReadConstraints constraints = StreamReadConstraints.builder()
                .maxNestingDepth(MAX_DEPTH)
                .maxStringLength(MAX_SCALAR)
                .maxNameLength(MAX_SCALAR)
                .maxNumberLength(64)
                .maxDocumentLength(MAX_FILE_BYTES)
                .build();
        JsonFactory factory;
        if (json) {
            factory = JsonFactory.builder().streamReadConstraints(constraints).build();
        } else {
            LoaderOptions loader = new LoaderOptions();
            loader.setCodePointLimit(MAX_FILE_BYTES);
            loader.setNestingDepthLimit(MAX_DEPTH);
            loader.setMaxAliasesForCollections(16);
            loader.setAllowRecursiveKeys(false);
            factory = YAMLFactory.builder().loaderOptions(loader).streamReadConstraints(constraints).build();
        }
        factory.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        ObjectMapper mapper = new ObjectMapper(factory);
        Map<String, Entry> settings = new LinkedHashMap<>();
        Map<String, Map<String, Entry>> environments = new LinkedHashMap<>();
        List<RawApp> rawApps = new java.util.ArrayList<>();
        int appsLine = 0;
        try (JsonParser parser = mapper.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return new ConfigFile(shown, base, settings, environments);
            }
            if (first != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException(shown + ":" + line(parser) + ": expected keys and values (a mapping)");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                int line = line(parser);
                checkScalar(shown, line, key);
                parser.nextToken();
                if (key.equals(APPS)) {
                    appsLine = line;
                    rawApps.addAll(readApps(shown, line, parser, mapper));
                    continue;
                }
                readKey(shown, key, line, parser, mapper, settings, environments);
            }
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            String message = e.getOriginalMessage().lines().findFirst().orElse("cannot parse");
            if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException yaml) {
                message = (yaml.getContext() == null ? "" : yaml.getContext() + ": ") + yaml.getProblem();
                line = yaml.getProblemMark() == null ? line : yaml.getProblemMark().getLine() + 1;
            }
            throw new IllegalArgumentException(shown + (line > 0 ? ":" + line : "") + ": " + abbreviate(message, 200));
        } catch (IOException e) {
            throw new IllegalArgumentException(shown + ": " + IoReason.of(e));
        } catch (IllegalArgumentException e) {
            throw e; // this class's own one-line messages
        } catch (RuntimeException e) {
            // the YAML parser's own limits (nesting, size, aliases) and anything else it throws: one line
            String message = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.getClass().getSimpleName());
            throw new IllegalArgumentException(shown + ": cannot parse: " + abbreviate(message, 200));
        } catch (StackOverflowError e) {
            throw new IllegalArgumentException(shown + ": cannot parse: nested too deeply");
        }
        ConfigFile file = new ConfigFile(shown, base, settings, environments);
        if (appsLine > 0) {
            file.apps = apps(shown, base, appsLine, settings, environments, rawApps);
        }
        return file;
    }

    /** One entry of {@code apps} as read: its own keys. */
    private record RawApp(int line, Map<String, Entry> settings, Map<String, Map<String, Entry>> environments) {
    }

    /** A top-level key, or a key of an app's entry, into {@code settings} or {@code environments}. */
    private static void readKey(String shown, String key, int line, JsonParser parser, ObjectMapper mapper,
                                Map<String, Entry> settings, Map<String, Map<String, Entry>> environments)
            throws IOException {
        if (key.equals(ENV) || key.startsWith(ENV_PREFIX)) {
            environments.put(key, readEnvironment(shown, key, line, parser, mapper));
            return;
        }
        JsonNode value = mapper.readTree(parser);
        checkScalars(shown, line, key, value, 0);
        if (Setting.of(key) == null) {
            throw new IllegalArgumentException(shown + ":" + line + ": " + abbreviate(key, 40) + ": unknown key"
                    + suggestion(key));
        }
        settings.put(key, new Entry(value, line));
    }

    /** The list of {@code apps}: each entry a mapping of an app's keys. */
    private static List<RawApp> readApps(String shown, int line, JsonParser parser, ObjectMapper mapper) throws IOException {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            mapper.readTree(parser);
            throw new IllegalArgumentException(shown + ":" + line + ": apps: expected a list of apps (each with app: "
                    + "and its settings)");
        }
        List<RawApp> apps = new java.util.ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            int at = line(parser);
            if (parser.currentToken() != JsonToken.START_OBJECT) {
                mapper.readTree(parser);
                throw new IllegalArgumentException(shown + ":" + at + ": apps: each app is a mapping of its keys "
                        + "(app, name, isolates, ...)");
            }
            Map<String, Entry> settings = new LinkedHashMap<>();
            Map<String, Map<String, Entry>> environments = new LinkedHashMap<>();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                int keyLine = line(parser);
                checkScalar(shown, keyLine, key);
                parser.nextToken();
                if (key.equals(APPS) || RUNTIME_KEYS.contains(key)) {
                    throw new IllegalArgumentException(shown + ":" + keyLine + ": " + key + ": "
                            + (key.equals(APPS) ? "apps cannot be nested" : "a setting of the runtime, not of one app: "
                            + "give it outside apps"));
                }
                readKey(shown, key, keyLine, parser, mapper, settings, environments);
            }
            apps.add(new RawApp(at, settings, environments));
        }
        return apps;
    }

    /**
     * The apps of the list, each its keys laid over the top-level ones (env blocks variable by variable),
     * each checked: it names its jar, and no two have one name.
     */
    private static List<App> apps(String shown, Path base, int line, Map<String, Entry> top,
                                  Map<String, Map<String, Entry>> topEnvironments, List<RawApp> raw) {
        if (raw.isEmpty()) {
            throw new IllegalArgumentException(shown + ":" + line + ": apps: an empty list (give at least one app, "
                    + "or leave apps out for one app)");
        }
        List<App> apps = new java.util.ArrayList<>();
        Map<String, Integer> lines = new java.util.HashMap<>();
        for (RawApp app : raw) {
            if (!app.settings().containsKey("app")) {
                throw new IllegalArgumentException(shown + ":" + app.line() + ": apps: this app has no app: (its jar)");
            }
            Map<String, Entry> settings = new LinkedHashMap<>(top);
            settings.keySet().removeAll(RUNTIME_KEYS);
            settings.putAll(app.settings());
            Map<String, Map<String, Entry>> environments = new LinkedHashMap<>();
            topEnvironments.forEach((k, v) -> environments.put(k, new LinkedHashMap<>(v)));
            app.environments().forEach((k, v) -> environments.computeIfAbsent(k, x -> new LinkedHashMap<>()).putAll(v));
            ConfigFile file = new ConfigFile(shown, base, settings, environments);
            Object given = file.values.get("name");
            String name = given != null ? given.toString() : Main.appName((Path) file.values.get("app"));
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}") || name.equals("all")) {
                throw new IllegalArgumentException(shown + ":" + app.line() + ": apps: '" + abbreviate(name, 40)
                        + "' cannot name an app (1 to 64 letters, digits, '.', '_' or '-'; not 'all')");
            }
            Integer before = lines.putIfAbsent(name, app.line());
            if (before != null) {
                throw new IllegalArgumentException(shown + ":" + app.line() + ": apps: a second app named '" + name
                        + "' (the first is at line " + before + "; give each its own name)");
            }
            apps.add(new App(name, app.line(), file));
        }
        return List.copyOf(apps);
    }

    /** @return the apps of an {@code apps} list; empty when the file has none (it is one app) */
    List<App> apps() {
        return apps;
    }

    private static void checkScalar(String shown, int line, String text) {
        if (text != null && text.length() > MAX_SCALAR) {
            throw new IllegalArgumentException(shown + ":" + line + ": a key or value is longer than "
                    + MAX_SCALAR / 1024 + " KiB");
        }
    }

    private static void checkScalars(String shown, int line, String key, JsonNode value, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException(shown + ":" + line + ": " + abbreviate(key, 40) + ": nested too deeply");
        }
        if (value.isTextual()) {
            checkScalar(shown, line, value.textValue());
        }
        for (var it = value.fields(); it.hasNext(); ) {
            var e = it.next();
            checkScalar(shown, line, e.getKey());
            checkScalars(shown, line, key, e.getValue(), depth + 1);
        }
        if (value.isArray()) {
            for (JsonNode item : value) {
                checkScalars(shown, line, key, item, depth + 1);
            }
        }
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    private static Map<String, Entry> readEnvironment(String shown, String key, int line, JsonParser parser,
                                                      ObjectMapper mapper) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            mapper.readTree(parser);
            throw new IllegalArgumentException(shown + ":" + line + ": " + key + ": expected variables (NAME: value)");
        }
        Map<String, Entry> variables = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            int at = line(parser);
            checkScalar(shown, at, name);
            parser.nextToken();
            JsonNode value = mapper.readTree(parser);
            checkScalars(shown, at, key + "." + name, value, 0);
            if (!(value.isTextual() || value.isNumber() || value.isBoolean())) {
                throw new IllegalArgumentException(shown + ":" + at + ": " + key + "." + name
                        + ": expected a string, number or boolean");
            }
            variables.put(name, new Entry(value, at));
        }
        return variables;
    }

    private static int line(JsonParser parser) {
        return parser.currentTokenLocation().getLineNr();
    }

    private static String suggestion(String key) {
        if (key.length() > 40) {
            return "";
        }
        String best = null;
        int bestDistance = 3;
        for (Setting setting : Setting.ALL) {
            int d = distance(key.toLowerCase(Locale.ROOT).replace("-", "").replace("_", ""),
                    setting.key().toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = setting.key();
            }
        }
        return best == null ? "" : " (did you mean " + best + "?)";
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private IllegalArgumentException error(int line, String key, String message) {
        return new IllegalArgumentException(shown + ":" + line + ": " + key + ": " + message);
    }

    /** @return the checked settings by key, as the values of their options' fields */
    Map<String, Object> values() {
        return Collections.unmodifiableMap(values);
    }

    /** @return the line of a key, 0 when it is not in the file */
    int lineOf(String key) {
        Entry entry = settings.get(key);
        return entry == null ? 0 : entry.line();
    }

    /** @return the names of the env blocks, {@code env} and {@code env_<name>} */
    List<String> environmentBlocks() {
        return List.copyOf(environments.keySet());
    }

    /**
     * The variables for the app: {@code env}, overlaid with {@code env_<name>} when a name is given.
     *
     * @param name the environment chosen with {@code --env}, or null
     * @return the variables
     * @throws IllegalArgumentException when there is no such block
     */
    Map<String, String> environment(String name) {
        Map<String, String> env = new TreeMap<>();
        environments.getOrDefault(ENV, Map.of()).forEach((k, v) -> env.put(k, v.value().asText()));
        if (name != null) {
            Map<String, Entry> chosen = environments.get(ENV_PREFIX + name);
            if (chosen == null) {
                throw new IllegalArgumentException(shown + ": no " + ENV_PREFIX + name + " block for --env " + name
                        + (environments.keySet().stream().anyMatch(k -> k.startsWith(ENV_PREFIX))
                        ? " (it has " + String.join(", ", environments.keySet().stream()
                                .filter(k -> k.startsWith(ENV_PREFIX)).toList()) + ")" : ""));
            }
            chosen.forEach((k, v) -> env.put(k, v.value().asText()));
        }
        return env;
    }

    /** @return the file as a tree: settings, then env blocks */
    ObjectNode tree() {
        ObjectNode tree = new ObjectMapper().createObjectNode();
        settings.forEach((k, v) -> tree.set(k, v.value()));
        environments.forEach((k, vars) -> {
            ObjectNode block = tree.putObject(k);
            vars.forEach((name, v) -> block.set(name, v.value()));
        });
        return tree;
    }

    /** @return the file written again as YAML */
    String toYaml() {
        try {
            return YAMLMapper.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).build().writeValueAsString(tree());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the file's name as messages show it */
    String shown() {
        return shown;
    }

    /** @return the folder relative paths start from */
    Path base() {
        return base;
    }

    /**
     * The error for a key whose value was valid in the file but not for the runtime.
     *
     * @param key     the key
     * @param message what is wrong
     * @return the exception
     */
    IllegalArgumentException errorAt(String key, String message) {
        return error(lineOf(key), key, message);
    }
}
