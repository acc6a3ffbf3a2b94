package dev.forkless.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The diff of two settings a reload with new settings applies: what changed, what needs a restart. */
class ConfigChangeTest {

    private static final ForklessConfig D = ForklessConfig.DEFAULTS.withCopies(2);
    private static final Map<String, String> FIXED = Map.of("app", "/srv/app.jar", "admin", "", "adminToken", "");

    private static RuntimeSettings settings(ForklessConfig config, List<String> args, Map<String, String> fixed) {
        return new RuntimeSettings(config, args, fixed);
    }

    private static ConfigChange change(ForklessConfig after) {
        return ConfigChange.between(settings(D, List.of("--port", "8080"), FIXED),
                settings(after, List.of("--port", "8080"), FIXED));
    }

    @Test
    void theSameSettingsChangeNothing() {
        ConfigChange change = change(D);
        assertEquals(List.of(), change.applied());
        assertEquals(List.of(), change.needsRestart());
        assertEquals("", change.notAppliedText());
    }

    @Test
    void whatALiveRuntimeTakesIsApplied() {
        ForklessConfig after = D.withEnvironment(Map.of("GREETING", "new"))
                .withCopies(3)
                .withJvmArgs(List.of("-Xmx256m"))
                .withReadyTimeout(Duration.ofSeconds(5))
                .withRestartPolicy(D.restartPolicy().withDrainTimeout(Duration.ofSeconds(9)).withAutorestart(false)
                        .withStopExitCodes(Set.of(3)))
                .withMaxMemory(512L << 20)
                .withCronRestart(CronSchedule.parse("0 3 * * *"));
        ConfigChange change = change(after);
        assertEquals(List.of("env", "isolates", "jvmArgs", "readyTimeout", "drainTimeout", "autorestart",
                "stopExitCodes", "cronRestart", "maxMemory"), change.applied());
        assertEquals(List.of(), change.needsRestart());
    }

    @Test
    void theAppsArgumentsAreApplied() {
        ConfigChange change = ConfigChange.between(settings(D, List.of("--port", "0"), FIXED),
                settings(D, List.of("--port", "0", "--verbose"), FIXED));
        assertEquals(List.of("args"), change.applied());
    }

    @Test
    void aNewPortInTheArgumentsNeedsARestartAndTheArgumentsStay() {
        RuntimeSettings before = settings(D, List.of("--port", "8080", "--verbose"), FIXED);
        RuntimeSettings after = settings(D.withEnvironment(Map.of("A", "1")), List.of("--port", "9090"), FIXED);
        ConfigChange change = ConfigChange.between(before, after);
        assertEquals(List.of("env"), change.applied());
        assertEquals(List.of("port", "args"), change.needsRestart());
        RuntimeSettings live = ConfigChange.live(before, after);
        assertEquals(before.args(), live.args(), "the copies keep listening where the runtime's sockets are");
        assertEquals(Map.of("A", "1"), live.config().environment());
        assertEquals(List.of("port"), ConfigChange.between(before,
                settings(D, List.of("--port=9090", "--verbose"), FIXED)).needsRestart().subList(0, 1));
    }

    @Test
    void aNewPortVariableNeedsARestartAndTheOtherVariablesApply() {
        RuntimeSettings before = settings(D.withEnvironment(Map.of("PORT", "8080", "A", "1")), List.of(), FIXED);
        RuntimeSettings after = settings(D.withEnvironment(Map.of("PORT", "9090", "A", "2")), List.of(), FIXED);
        ConfigChange change = ConfigChange.between(before, after);
        assertEquals(List.of("env"), change.applied());
        assertEquals(List.of("port"), change.needsRestart());
        assertEquals(Map.of("PORT", "8080", "A", "2"), ConfigChange.live(before, after).config().environment());
    }

    @Test
    void theModeTheAdminAndTheJarNeedARestart() {
        Map<String, String> moved = Map.of("app", "/srv/other.jar", "admin", "127.0.0.1:9700", "adminToken", "");
        ConfigChange change = ConfigChange.between(settings(D, List.of(), FIXED),
                settings(D.withMode(Mode.PROCESS).withEnvironment(Map.of("A", "1")), List.of(), moved));
        assertEquals(List.of("env"), change.applied());
        assertEquals(List.of("mode", "admin", "app"), change.needsRestart());
        assertEquals("not applied (needs a restart): mode, admin, app", change.notAppliedText());
    }

    @Test
    void settingsTheRuntimeBuiltItsPartsWithNeedARestart() {
        ForklessConfig after = D.withStandby(3).withWatch(true, Duration.ofSeconds(2)).withHangTimeout(Duration.ZERO)
                .withMetering(false).withLoopChecks(false).withInbox(10, Overflow.DROP).withConsoleEscapes(true);
        assertEquals(List.of("standby", "watch", "hangTimeout", "metering", "loopChecks", "consoleEscapes", "inbox"),
                change(after).needsRestart());
        assertEquals(List.of(), change(after).applied());
    }

    @Test
    void theLiveSettingsTakeTheNewLiveOnesAndKeepTheRest() {
        ForklessConfig after = D.withMode(Mode.PROCESS).withStandby(4).withEnvironment(Map.of("A", "1"))
                .withCopies(5).withRestartPolicy(D.restartPolicy().withDrainTimeout(Duration.ofSeconds(1)));
        ForklessConfig live = ConfigChange.live(D, after);
        assertEquals(Mode.ISOLATE, live.mode(), "the mode needs a restart");
        assertEquals(D.standby(), live.standby());
        assertEquals(Map.of("A", "1"), live.environment());
        assertEquals(5, live.copies());
        assertEquals(Duration.ofSeconds(1), live.restartPolicy().drainTimeout());
        assertTrue(ConfigChange.between(settings(live, List.of(), FIXED), settings(after, List.of(), FIXED))
                .applied().isEmpty(), "once applied, the live settings are no change any more");
    }
}
