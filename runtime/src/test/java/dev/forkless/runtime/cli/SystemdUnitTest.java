package dev.forkless.runtime.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The unit's text: systemd's quoting, and the stop timeout taken from the runtime's own options. */
class SystemdUnitTest {

    @Test
    void wordsAreQuotedAsSystemdReadsThem() {
        assertEquals("/usr/bin/java", SystemdUnit.quote("/usr/bin/java"));
        assertEquals("\"/srv/my app.jar\"", SystemdUnit.quote("/srv/my app.jar"));
        assertEquals("\"say \\\"hi\\\"\"", SystemdUnit.quote("say \"hi\""));
        assertEquals("\"a\\\\b\"", SystemdUnit.quote("a\\b"));
        assertEquals("$$HOME", SystemdUnit.quote("$HOME"), "no variable expansion");
        assertEquals("100%%", SystemdUnit.quote("100%"), "no specifier expansion");
        assertEquals("\"\"", SystemdUnit.quote(""));
        assertEquals("\";\"", SystemdUnit.quote(";"), "a lone ; would separate commands");
    }

    @Test
    void theDrainTimeoutIsReadFromTheRuntimesOptionsOnly() {
        assertEquals(Optional.of(Duration.ofSeconds(3)),
                StartupCommand.Systemd.drainTimeout(List.of("-i", "2", "--drain-timeout=3s", "app.jar")));
        assertEquals(Optional.of(Duration.ofSeconds(4)),
                StartupCommand.Systemd.drainTimeout(List.of("--watch", "--drain-timeout", "4s", "app.jar")));
        assertEquals(Optional.empty(), StartupCommand.Systemd.drainTimeout(List.of("app.jar", "--drain-timeout", "9s")),
                "after the jar, options are the app's");
        assertEquals(Optional.empty(),
                StartupCommand.Systemd.drainTimeout(List.of("--jvm-arg", "--drain-timeout", "app.jar", "9s")),
                "a value of another option is not an option");
    }

    @Test
    void theStopTimeoutLeavesRoomPastTheDrain() {
        assertEquals(Duration.ofSeconds(15), SystemdUnit.stopTimeoutFor(Duration.ofSeconds(5)));
        SystemdUnit unit = new SystemdUnit("app", "svc", Path.of("/srv"), List.of("/opt/java/bin/java", "-jar", "/srv/r.jar"),
                Duration.ofMillis(12_500), "test");
        assertTrue(unit.render().contains("\nTimeoutStopSec=13\n"), unit.render());
        assertThrows(IllegalArgumentException.class, () -> new SystemdUnit("app", "svc", Path.of("/srv"),
                List.of("java", "-jar", "r.jar"), Duration.ofSeconds(15), "test"), "systemd needs an absolute path");
    }

    @Test
    void theUnitIsTypeNotifySoThatSystemdFollowsAnUpgrade() {
        String unit = new SystemdUnit("app", "svc", Path.of("/srv"), List.of("/opt/java/bin/java", "-jar", "/srv/r.jar"),
                Duration.ofSeconds(15), "test").render();
        List<String> lines = unit.lines().toList();
        assertTrue(lines.contains("Type=notify"), unit);
        assertTrue(lines.contains("NotifyAccess=all"), "READY= comes from the new runtime, not the main process: " + unit);
        // systemd follows an upgrade through the PID file, at the old runtime's exit
        assertTrue(lines.contains("RuntimeDirectory=app"), unit);
        assertTrue(lines.contains("PIDFile=/run/app/runtime.pid"), unit);
        assertTrue(lines.contains("Environment=PIDFILE=/run/app/runtime.pid"), "for systemd before 251: " + unit);
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("Type=") && !l.equals("Type=notify")), "one Type: " + unit);
        assertTrue(lines.contains("ExecReload=/bin/kill -HUP $MAINPID"), unit);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("#") && l.contains("upgrade [--runtime JAR] [--java PATH]")),
                "the comment names forkless upgrade: " + unit);
        assertTrue(lines.stream().anyMatch(l -> l.matches("TimeoutStartSec=\\d+")), unit);
    }
}
