package dev.forkless.runtime;

import dev.forkless.runtime.log.LogSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one settings record: its defaults, its checks, and the builder that builds it. */
class ForklessConfigTest {

    private static final ForklessConfig D = ForklessConfig.DEFAULTS;

    @TempDir
    Path dir;

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        assertEquals(Math.min(Runtime.getRuntime().availableProcessors(), 1024), D.copies());
        assertEquals(1, D.standby());
        assertEquals(Mode.ISOLATE, D.mode());
        assertEquals(List.of(), D.jvmArgs());
        assertEquals(Duration.ofSeconds(60), D.readyTimeout());
        assertSame(RestartPolicy.DEFAULT, D.restartPolicy());
        assertEquals(Duration.ofSeconds(5), D.restartPolicy().drainTimeout());
        assertFalse(D.watch());
        assertEquals(Duration.ofSeconds(1), D.watchDelay());
        assertEquals(Duration.ofSeconds(10), D.hangTimeout());
        assertEquals(0, D.maxMemory());
        assertTrue(D.loopChecks());
        assertTrue(D.metering());
        assertFalse(D.escalate());
        assertEquals(Duration.ofSeconds(10), D.escalateWindow());
        assertNull(D.logs());
        assertFalse(D.consoleEscapes());
        assertNull(D.sharedStateFile());
        assertEquals(1024, D.inboxCapacity());
        assertEquals(Overflow.BLOCK, D.overflow());
        assertEquals(Map.of(), D.environment());
    }

    @Test
    void aFreshBuilderHoldsTheDefaultsAndEachSetterChangesOneSetting() {
        Forkless.Builder builder = Forkless.builder().app("example.Main", List.of(dir));
        assertEquals(D, builder.config());

        LogSettings logs = LogSettings.in(dir).withMerge(true);
        builder.copies(3).standby(0).mode(Mode.PROCESS).jvmArgs(List.of("-Xmx64m"))
                .readyTimeout(Duration.ofSeconds(3)).watch(Duration.ofMillis(200)).hangTimeout(Duration.ZERO)
                .maxMemory(64L << 20).loopChecks(false).metering(false).escalate(Duration.ofSeconds(2)).logs(logs)
                .consoleEscapes(true).sharedStateFile(dir.resolve("state")).inbox(8, Overflow.DROP)
                .environment(Map.of("A", "b")).drainTimeout(Duration.ofSeconds(9))
                .cronRestart(CronSchedule.parse("0 3 * * *")).warmUp("/health");

        assertEquals(new ForklessConfig(3, 0, Mode.PROCESS, List.of("-Xmx64m"), Duration.ofSeconds(3),
                RestartPolicy.DEFAULT.withDrainTimeout(Duration.ofSeconds(9)), true, Duration.ofMillis(200),
                Duration.ZERO, 64L << 20, false, false, true, Duration.ofSeconds(2), logs, true, dir.resolve("state"),
                8, Overflow.DROP, Map.of("A", "b"), CronSchedule.parse("0 3 * * *"), "/health"), builder.config());
    }

    @Test
    void aWholeConfigReplacesTheSettingsAndTheBuiltRuntimeReadsIt() {
        ForklessConfig config = D.withCopies(2).withStandby(0).withHangTimeout(Duration.ofSeconds(3));
        Forkless.Builder builder = Forkless.builder().app("example.Main", List.of(dir))
                .drainTimeout(Duration.ofSeconds(9)).config(config);
        assertEquals(config, builder.config());
        assertEquals(RestartPolicy.DEFAULT.drainTimeout(), builder.policy().drainTimeout(),
                "config(...) replaces a drain timeout set before it");
        try (Forkless forkless = builder.build()) {
            assertEquals(config, forkless.config());
        }
    }

    @Test
    void theRestartSettingsHaveBuilderMethods() {
        Forkless.Builder builder = Forkless.builder().app("example.Main", List.of(dir))
                .autorestart(false).stopExitCodes(java.util.Set.of(0, 3)).fixedRestartDelay(Duration.ofSeconds(2));
        RestartPolicy policy = builder.config().restartPolicy();
        assertFalse(policy.autorestart());
        assertEquals(java.util.Set.of(0, 3), policy.stopExitCodes());
        assertTrue(policy.fixedDelay());
        assertEquals(Duration.ofSeconds(2), policy.delayBefore(7));
        assertTrue(D.restartPolicy().autorestart());
        assertEquals(java.util.Set.of(), D.restartPolicy().stopExitCodes());
        assertTrue(D.restartPolicy().restarts(0));
        assertFalse(D.restartPolicy().withStopExitCodes(java.util.Set.of(0)).restarts(0));
        assertTrue(D.restartPolicy().withStopExitCodes(java.util.Set.of(0)).restarts(null), "a crash has no status");
        assertFalse(D.restartPolicy().withAutorestart(false).restarts(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> builder.stopExitCodes(java.util.Set.of(256)));
        assertEquals("stop exit codes must be between 0 and 255, not 256", e.getMessage());
    }

    static Stream<Arguments> badValues() {
        return Stream.<Arguments>of(
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withCopies(0), "copies must be between 1 and 1024, not 0"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withStandby(65), "standby must be between 0 and 64, not 65"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withReadyTimeout(Duration.ZERO),
                        "ready timeout must be between 1ms and 1h, not 0"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withHangTimeout(Duration.ofDays(2)),
                        "hang timeout must be between 0 and 24h, not 48h"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withMaxMemory(1024),
                        "max memory must be between 16MB and 1TB, not 1KB"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withInbox(0, Overflow.BLOCK),
                        "inbox capacity must be between 1 and 1048576, not 0"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withWatch(true, Duration.ofHours(2)),
                        "watch delay must be between 0 and 1h, not 2h"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withEscalate(true, Duration.ofMillis(10)),
                        "escalate window must be between 1s and 1h, not 10ms"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withRestartPolicy(
                        RestartPolicy.DEFAULT.withDrainTimeout(Duration.ofHours(2))),
                        "drain timeout must be between 0 and 1h, not 2h"),
                Arguments.of((UnaryOperator<ForklessConfig>) c -> c.withRestartPolicy(
                        RestartPolicy.DEFAULT.withBackoff(Duration.ofMillis(1), 1000, Duration.ofSeconds(1))),
                        "restart delay multiplier must be between 1 and 100, not 1000.0"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badValues")
    void aBadValueIsOneLineNamingItsRange(UnaryOperator<ForklessConfig> change, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> change.apply(D));
        assertEquals(message, e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void theRecordIsImmutable() {
        java.util.ArrayList<String> args = new java.util.ArrayList<>(List.of("-Xmx1g"));
        ForklessConfig config = D.withJvmArgs(args);
        args.add("-Xss1m");
        assertEquals(List.of("-Xmx1g"), config.jvmArgs());
        assertThrows(UnsupportedOperationException.class, () -> config.jvmArgs().add("x"));
        assertThrows(UnsupportedOperationException.class, () -> config.environment().put("A", "b"));
        assertEquals(Mode.ISOLATE, D.mode(), "a with-method leaves the defaults as they are");
    }

    /**
     * The mode is the runtime's own enum (an app's {@code Worker.Mode} also has {@code NONE}, which no
     * runtime runs, so no value of it can be given any more); its text is what the CLI, the logs and the JSON
     * always wrote.
     */
    @Test
    void theModeIsTheRuntimesOwnTypeWrittenLowerCase() {
        assertEquals(List.of(Mode.ISOLATE, Mode.PROCESS), List.of(Mode.values()));
        assertEquals("isolate", Mode.ISOLATE.toString());
        assertEquals("process", Mode.PROCESS.toString());
        NullPointerException e = assertThrows(NullPointerException.class, () -> D.withMode(null));
        assertEquals("mode", e.getMessage());
    }
}
