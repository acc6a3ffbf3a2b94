package dev.forkless.runtime.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The config file: the docs' example, every key, env blocks, and one error line per malformed file. */
class ConfigFileTest {

    private static final Path DOCS = Path.of("..", "docs", "configuration.md");

    @TempDir
    Path dir;

    private static String docs() throws IOException {
        return Files.readString(DOCS);
    }

    /** The fenced block of a language after the "Full example" heading. */
    private static String example(String language) throws IOException {
        String text = docs();
        int from = text.indexOf("## Full example");
        Matcher m = Pattern.compile("```" + language + "\\n(.*?)```", Pattern.DOTALL).matcher(text);
        assertTrue(m.find(from), "no " + language + " example in " + DOCS);
        return m.group(1);
    }

    private static ConfigFile parse(String text) {
        return ConfigFile.parse("forkless.yaml", Path.of("/srv/shop"), text, false);
    }

    @Test
    void theDocsExampleHasEveryKeyAndRoundTrips() throws IOException {
        ConfigFile config = parse(example("yaml"));
        for (Setting setting : Setting.ALL) {
            assertTrue(config.values().containsKey(setting.key()), "the example lacks " + setting.key());
        }
        assertEquals(List.of("env", "env_production"), config.environmentBlocks());
        ConfigFile again = parse(config.toYaml());
        assertEquals(config.tree(), again.tree(), config.toYaml());
        assertEquals(config.values(), again.values());
        assertEquals(Path.of("/srv/shop/target/shop.jar"), config.values().get("app"));
        assertEquals(List.of("--port", "8080"), config.values().get("args"));
        assertEquals(Map.of("GREETING", "hello from production", "CACHE_SIZE", "100",
                "DB_URL", "jdbc:postgresql://db/shop"), config.environment("production"));
        assertEquals(Map.of("GREETING", "hello", "CACHE_SIZE", "100"), config.environment(null));
    }

    @Test
    void theJsonExampleParses() throws IOException {
        ConfigFile config = ConfigFile.parse("forkless.json", Path.of("/srv"), example("json"), true);
        assertEquals("4", config.values().get("isolates"));
        assertEquals(Map.of("GREETING", "hello from production"), config.environment("production"));
    }

    /** The row of a key in the docs' table: group 1 the flag column, group 2 the default column. */
    private static Matcher row(String text, String key) {
        return Pattern.compile("\\n\\| `" + Pattern.quote(key) + "` \\| ([^|]*) \\| ([^|]*) \\|").matcher(text);
    }

    @Test
    void theDocsTableHasEveryKeyWithItsFlagAndTheRecordsDefault() throws IOException {
        String text = docs();
        for (Setting setting : Setting.ALL) {
            Matcher row = row(text, setting.key());
            assertTrue(row.find(), "docs/configuration.md has no row for " + setting.key());
            assertTrue(row.group(1).contains(setting.flag()), setting.key() + ": flag " + setting.flag());
            String documented = row.group(2).trim();
            String expected = setting.defaultText();
            if (expected == null) {
                assertTrue(!documented.startsWith("`"), setting.key() + ": the docs give a default, "
                        + documented + ", where ForklessConfig.DEFAULTS has none");
            } else {
                assertEquals("`" + expected + "`", documented, setting.key() + ": default, as ForklessConfig.DEFAULTS has it");
            }
        }
        // the test can fail: a changed default no longer matches the docs
        Setting ready = Setting.of("readyTimeout");
        Matcher row = row(text, ready.key());
        assertTrue(row.find());
        assertEquals("`60s`", row.group(2).trim());
        assertEquals("60s", ready.defaultText());
    }

    @Test
    void theUserGuidesDefaultsAreTheRecordsToo() throws IOException {
        String guide = Files.readString(Path.of("..", "docs", "user-guide.md")).replace("\\|", "/");
        Matcher row = Pattern.compile("\\n\\| (`-[^|]*) \\| ([^|]*) \\|").matcher(guide);
        int compared = 0;
        while (row.find()) {
            List<String> flags = Pattern.compile("`(--[a-z-]+)").matcher(row.group(1)).results().map(m -> m.group(1))
                    .toList();
            List<String> defaults = List.of(row.group(2).trim().split(", "));
            if (flags.size() != defaults.size()) {
                continue; // one default for several options: prose
            }
            for (int i = 0; i < flags.size(); i++) {
                Setting setting = Setting.ofFlag(flags.get(i));
                if (setting != null && defaults.get(i).startsWith("`")) {
                    assertEquals("`" + setting.defaultText() + "`", defaults.get(i), "docs/user-guide.md, " + flags.get(i));
                    compared++;
                }
            }
        }
        assertTrue(compared >= 12, "compared only " + compared + " defaults of docs/user-guide.md");
    }

    @Test
    void everyOptionOfTheCommandLineIsAKeyInTheDocsTable() throws IOException {
        CommandLine.Model.CommandSpec spec = new CommandLine(new Main(System.err)).getCommandSpec();
        String text = docs();
        // flags only: help, version, --config and --env (in the env_<name> row), the hidden handover;
        // --compare and its options are described in docs/compare.md
        List<String> flagsOnly = List.of("--help", "--version", "--config", "--take-over");
        java.util.Set<CommandLine.Model.OptionSpec> compare = new java.util.HashSet<>();
        spec.argGroups().forEach(g -> compare.addAll(g.allOptionsNested()));
        int checked = 0;
        for (CommandLine.Model.OptionSpec option : spec.options()) {
            if (flagsOnly.contains(option.longestName()) || compare.contains(option)) {
                continue;
            }
            assertTrue(Pattern.compile("\\n\\| `[^`]+` \\| [^|]*`" + Pattern.quote(option.longestName()) + "[` ]")
                    .matcher(text).find(), "docs/configuration.md has no row for " + option.longestName());
            Setting setting = Setting.ofFlag(option.longestName());
            if (!option.longestName().equals("--env")) {
                assertTrue(setting != null, option.longestName() + " has no key in Setting.ALL");
            }
            if (setting != null && setting.defaultText() != null && !option.isMultiValue()) {
                assertEquals(setting.defaultText(), option.defaultValueString(), option.longestName() + ": --help's default");
            }
            checked++;
        }
        assertTrue(checked >= Setting.ALL.size() - 2, "checked " + checked);
    }

    @Test
    void anEnvBlockNotInTheFileIsAnError() {
        ConfigFile config = parse("env_staging:\n  A: b\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> config.environment("production"));
        assertEquals("forkless.yaml: no env_production block for --env production (it has env_staging)", e.getMessage());
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("app: a.jar\nstandby: 0\nisolates: many\n", "forkless.yaml:3: isolates: expected a number or \"max\""),
                Arguments.of("isolates: 0\n", "forkless.yaml:1: isolates: expected a number or \"max\""),
                Arguments.of("isolate: 2\n", "forkless.yaml:1: isolate: unknown key (did you mean isolates?)"),
                Arguments.of("colour: red\n", "forkless.yaml:1: colour: unknown key"),
                Arguments.of("standby: -1\n", "forkless.yaml:1: standby: expected a whole number, 0 or more"),
                Arguments.of("\n\ndrainTimeout: soon\n", "forkless.yaml:3: drainTimeout: expected a duration such as 5s or 500ms"),
                Arguments.of("watch: yes please\n", "forkless.yaml:1: watch: expected true or false"),
                Arguments.of("mode: thread\n", "forkless.yaml:1: mode: expected isolate or process"),
                Arguments.of("jvmArgs: -Xmx1g\n", "forkless.yaml:1: jvmArgs: expected a list of strings"),
                Arguments.of("logMaxSize: huge\n", "forkless.yaml:1: logMaxSize: expected a size such as 10MB or 512KB"),
                Arguments.of("logFormat: xml\n", "forkless.yaml:1: logFormat: expected text or json"),
                Arguments.of("logKeep: 0\n", "forkless.yaml:1: logKeep: expected a whole number, 1 or more"),
                Arguments.of("cronRestart: \"0 25 * * *\"\n", "forkless.yaml:1: cronRestart: cron expression '0 25 * * *': bad hour '25': must be between 0 and 23"),
                Arguments.of("cronRestart: 3\n", "forkless.yaml:1: cronRestart: expected a cron expression such as \"0 3 * * *\""),
                Arguments.of("logDateFormat: \"yyyy-MM-dd {\"\n", "forkless.yaml:1: logDateFormat: expected a date format such as yyyy-MM-dd HH:mm:ss.SSS"),
                Arguments.of("env:\n  A: 1\n  B:\n    nested: no\n", "forkless.yaml:3: env.B: expected a string, number or boolean"),
                Arguments.of("env_production: [a, b]\n", "forkless.yaml:1: env_production: expected variables (NAME: value)"),
                Arguments.of("isolates: 2\nisolates: 3\n", "forkless.yaml:2: Duplicate field 'isolates'"),
                Arguments.of("- isolates\n", "forkless.yaml:1: expected keys and values (a mapping)"),
                Arguments.of("isolates: [1\n", "forkless.yaml:2: while parsing a flow sequence: expected ',' or ']'"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("malformed")
    void aMalformedFileExitsTwoWithTheKeyAndLine(String text, String message) throws IOException {
        Path file = Files.writeString(dir.resolve("forkless.yaml"), text);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"--config", file.toString()}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, out);
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.startsWith("forkless: " + file.toString().replace("forkless.yaml", "")), out);
        assertTrue(out.replace(file.toString(), "forkless.yaml").startsWith("forkless: " + message), out);
    }

    @Test
    void aMissingFileAndEnvWithoutConfigExitTwo() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertEquals(2, Main.run(new String[] {"--config", dir.resolve("none.yaml").toString()}, err));
        assertEquals(2, Main.run(new String[] {"--env", "production", "app.jar"}, err));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("none.yaml: no such file"), out);
        assertTrue(out.contains("forkless: --env production needs --config FILE"), out);
    }

    @Test
    void flagsOverrideTheFileAndTheFileFillsTheRest() throws IOException {
        Path file = Files.writeString(dir.resolve("forkless.yaml"), "isolates: 3\nstandby: 0\ndrainTimeout: 2500\n"
                + "jvmArgs: [-Xmx1g]\nwatch: true\napp: shop.jar\nargs: [--port, 1]\nlogs: out\n");
        Main main = new Main(System.err);
        CommandLine cmd = new CommandLine(main);
        cmd.setStopAtPositional(true);
        cmd.parseArgs("--config", file.toString(), "--isolates", "2", "--no-watch", "--jvm-arg=-Xmx2g");
        main.spec = cmd.getCommandSpec();
        main.applyConfig();
        assertEquals("2", main.isolates);
        assertEquals("0", main.standby);
        assertEquals("2500ms", main.drainTimeout);
        assertEquals(List.of("-Xmx2g"), main.jvmArgs);
        assertEquals(false, main.watch);
        assertEquals(dir.resolve("shop.jar").toAbsolutePath(), main.app);
        assertEquals(List.of("--port", "1"), main.appArgs);
        assertEquals(dir.resolve("out").toAbsolutePath(), main.logs);
    }

    @Test
    void anAppsListLaysEachAppsKeysOverTheTopLevelOnes() {
        ConfigFile config = parse("""
                isolates: 2
                maxRestarts: 5
                admin: 127.0.0.1:9700
                env:
                  GREETING: hello
                  LEVEL: info
                apps:
                  - app: web.jar
                    isolates: 4
                  - name: api
                    app: target/api.jar
                    mode: process
                    env:
                      GREETING: hi
                """);
        List<ConfigFile.App> apps = config.apps();
        assertEquals(List.of("web", "api"), apps.stream().map(ConfigFile.App::name).toList());
        assertEquals("4", apps.get(0).file().values().get("isolates"));
        assertEquals("2", apps.get(1).file().values().get("isolates"));
        assertEquals("5", apps.get(1).file().values().get("maxRestarts"));
        assertEquals("process", apps.get(1).file().values().get("mode"));
        assertEquals(Path.of("/srv/shop/target/api.jar"), apps.get(1).file().values().get("app"));
        assertTrue(!apps.get(0).file().values().containsKey("admin"), "admin is the runtime's");
        assertEquals(Map.of("GREETING", "hello", "LEVEL", "info"), apps.get(0).file().environment(null));
        assertEquals(Map.of("GREETING", "hi", "LEVEL", "info"), apps.get(1).file().environment(null));
        assertEquals(List.of(), parse("app: shop.jar\n").apps());
    }

    @Test
    void aBadAppsListIsOneLineNamingTheFileAndLine() {
        assertEquals("forkless.yaml:1: apps: an empty list (give at least one app, or leave apps out for one app)",
                assertThrows(IllegalArgumentException.class, () -> parse("apps: []\n")).getMessage());
        assertEquals("forkless.yaml:1: apps: expected a list of apps (each with app: and its settings)",
                assertThrows(IllegalArgumentException.class, () -> parse("apps: web.jar\n")).getMessage());
        assertEquals("forkless.yaml:3: admin: a setting of the runtime, not of one app: give it outside apps",
                assertThrows(IllegalArgumentException.class,
                        () -> parse("apps:\n  - app: a.jar\n    admin: 127.0.0.1:1\n")).getMessage());
        assertEquals("forkless.yaml:4: apps: a second app named 'a' (the first is at line 2; give each its own name)",
                assertThrows(IllegalArgumentException.class,
                        () -> parse("apps:\n  - app: a.jar\n  - app: b.jar\n  - {app: other.jar, name: a}\n")).getMessage());
        assertEquals("forkless.yaml:3: isolates: expected a number or \"max\"",
                assertThrows(IllegalArgumentException.class,
                        () -> parse("apps:\n  - app: a.jar\n    isolates: many\n")).getMessage());
        assertEquals("forkless.yaml:2: apps: 'all' cannot name an app (1 to 64 letters, digits, '.', '_' or '-'; not 'all')",
                assertThrows(IllegalArgumentException.class,
                        () -> parse("apps:\n  - {app: a.jar, name: all}\n")).getMessage());
    }
}
