package dev.forkless.runtime.cli;

import dev.forkless.runtime.Mode;
import dev.forkless.runtime.ForklessConfig;
import dev.forkless.runtime.Overflow;
import dev.forkless.runtime.RestartPolicy;
import dev.forkless.runtime.log.LogSettings;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line produces the one settings record: its defaults are the record's, each option one setting. */
class MainSettingsTest {

    @TempDir
    Path dir;

    private Main parse(String... args) {
        Main main = new Main(System.err);
        CommandLine cmd = new CommandLine(main);
        cmd.setStopAtPositional(true);
        cmd.parseArgs(args);
        main.spec = cmd.getCommandSpec();
        main.applyConfig();
        return main;
    }

    @Test
    void noOptionsAreTheRecordsDefaults() {
        assertEquals(ForklessConfig.DEFAULTS, parse("app.jar").settings());
    }

    @Test
    void eachOptionSetsItsSetting() {
        ForklessConfig settings = parse("--isolates", "3", "--standby", "0", "--mode", "process", "--jvm-arg=-Xmx64m",
                "--ready-timeout", "3s", "--drain-timeout", "2s", "--min-uptime", "500ms", "--max-restarts", "4",
                "--restart-delay", "10ms", "--max-restart-delay", "1s", "--no-autorestart", "--stop-exit-codes", "0,3",
                "--watch", "--watch-delay", "200ms",
                "--hang-timeout", "0", "--max-memory", "64MB", "--no-loop-checks", "--no-metering", "--escalate",
                "--escalate-window", "2s", "--logs", dir.toString(), "--merge-logs", "--log-format", "json",
                "--log-max-size", "1MB", "--log-keep", "2", "--console-escapes", "--shared-state",
                dir.resolve("state").toString(), "--inbox", "8", "--inbox-full", "drop", "--cron-restart", "0 3 * * *",
                "--warm-up", "off", "app.jar").settings();

        RestartPolicy policy = RestartPolicy.DEFAULT.withDrainTimeout(Duration.ofSeconds(2))
                .withCrashLoopGuard(Duration.ofMillis(500), 4).withBackoff(Duration.ofMillis(10), Duration.ofSeconds(1))
                .withAutorestart(false).withStopExitCodes(java.util.Set.of(0, 3));
        assertEquals(new ForklessConfig(3, 0, Mode.PROCESS, List.of("-Xmx64m"), Duration.ofSeconds(3), policy,
                true, Duration.ofMillis(200), Duration.ZERO, 64L << 20, false, false, true, Duration.ofSeconds(2),
                LogSettings.in(dir).withMerge(true).withFormat(LogSettings.Format.JSON).withRotation(1L << 20, 2),
                true, dir.resolve("state"), 8, Overflow.DROP, java.util.Map.of(),
                dev.forkless.runtime.CronSchedule.parse("0 3 * * *"), null), settings);
    }

    @Test
    void aFixedRestartBackoffWaitsTheRestartDelayEveryTimeWhateverTheMaximum() {
        RestartPolicy policy = parse("--restart-backoff", "fixed", "--restart-delay", "30s", "app.jar").settings()
                .restartPolicy();
        assertTrue(policy.fixedDelay());
        assertEquals(Duration.ofSeconds(30), policy.delayBefore(1));
        assertEquals(Duration.ofSeconds(30), policy.delayBefore(20));
        assertFalse(ForklessConfig.DEFAULTS.restartPolicy().fixedDelay());
    }

    @Test
    void theRestartSettingsComeFromTheConfigFileToo() throws Exception {
        Path file = Files.writeString(dir.resolve("forkless.yaml"),
                "autorestart: false\nstopExitCodes: [0, 3]\nrestartBackoff: fixed\nrestartDelay: 2s\n");
        RestartPolicy policy = parse("--config", file.toString(), "app.jar").settings().restartPolicy();
        assertEquals(RestartPolicy.DEFAULT.withAutorestart(false).withStopExitCodes(java.util.Set.of(0, 3))
                .withFixedDelay(Duration.ofSeconds(2)), policy);
        assertFalse(policy.restarts(3));
    }

    @Test
    void badRestartSettingsAreOneLineAndExitTwo() {
        for (String[] args : List.of(new String[] {"--stop-exit-codes", "0,256", "app.jar"},
                new String[] {"--stop-exit-codes", "x", "app.jar"},
                new String[] {"--restart-backoff", "linear", "app.jar"})) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
            assertEquals(2, Main.run(args, err), String.join(" ", args));
            String out = bytes.toString(StandardCharsets.UTF_8);
            assertEquals(1, out.lines().count(), out);
            assertTrue(out.startsWith("forkless: " + args[0] + " takes "), out);
        }
    }

    @Test
    void theNegatableSwitchesKeepTheirDefaultsAndBothForms() {
        assertTrue(parse("app.jar").settings().restartPolicy().autorestart());
        assertFalse(parse("--no-autorestart", "app.jar").settings().restartPolicy().autorestart());
        assertTrue(parse("--autorestart", "app.jar").settings().restartPolicy().autorestart());
        assertTrue(parse("--loop-checks", "app.jar").settings().loopChecks());
        assertFalse(parse("--no-loop-checks", "app.jar").settings().loopChecks());
        assertTrue(parse("--metering", "app.jar").settings().metering());
        assertFalse(parse("--no-metering", "app.jar").settings().metering());
        assertTrue(parse("--watch", "app.jar").settings().watch());
        assertFalse(parse("--no-watch", "app.jar").settings().watch());
    }

    @Test
    void theConfigFileSetsTheNewMeteringKey() throws Exception {
        Path file = Files.writeString(dir.resolve("forkless.yaml"), "metering: false\nreadyTimeout: 5s\n");
        ForklessConfig settings = parse("--config", file.toString(), "app.jar").settings();
        assertFalse(settings.metering());
        assertEquals(Duration.ofSeconds(5), settings.readyTimeout());
        assertEquals(ForklessConfig.DEFAULTS.withMetering(false).withReadyTimeout(Duration.ofSeconds(5)), settings);
    }

    @Test
    void helpShowsTheRecordsDefaults() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertEquals(0, Main.run(new String[] {"--help"}, out, out));
        String help = bytes.toString(StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        assertTrue(help.contains("before the operation aborts; a copy that crashes, exits or cannot start aborts at "
                + "once (default: " + "60s).") , help);
        assertTrue(help.contains("(default: 100ms)"), help);
        assertTrue(help.contains("(default: 10MB)"), help);
        assertTrue(help.contains("--[no-]metering"), help);
        assertFalse(help.contains("(default: null)"), help);
    }

    @Test
    void aBadValueIsStillOneLineNamingTheOptionAndExitTwo() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertEquals(2, Main.run(new String[] {"--watch-delay", "2h", "--admin", "off", "app.jar"}, err));
        assertEquals("forkless: --watch-delay must be between 0 and 1h, not 2h", bytes.toString(StandardCharsets.UTF_8).trim());
    }
}
