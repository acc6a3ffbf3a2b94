package dev.forkless.runtime.cli;

import dev.forkless.runtime.testing.FakeSystemd;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * sd_notify from Java: datagrams reach a socket bound as systemd binds it, at a path or an abstract name,
 * with this process's pid as the kernel tells it; the PID file's rules.
 */
class SystemdNotifyTest {

    @TempDir
    Path dir;

    private static final long PID = ProcessHandle.current().pid();

    @Test
    void readyReloadingAndStoppingReachASocketAtAPath() throws Exception {
        try (FakeSystemd systemd = FakeSystemd.listen(dir.resolve("notify").toString())) {
            SystemdNotify notify = new SystemdNotify(systemd.address(), System.err);
            assertTrue(notify.enabled());
            notify.ready("2 isolates serving 127.0.0.1:8080");
            notify.reloading();
            notify.stopping();
            await().atMost(Duration.ofSeconds(10)).until(() -> systemd.messages().size() == 3);
            List<FakeSystemd.Message> messages = systemd.messages();
            assertEquals(List.of(PID, PID, PID), messages.stream().map(FakeSystemd.Message::pid).toList(), systemd.summary());
            assertEquals(List.of("READY=1", "STATUS=2 isolates serving 127.0.0.1:8080"), messages.get(0).lines());
            assertTrue(messages.get(1).has("RELOADING=1"), systemd.summary());
            assertTrue(messages.get(1).lines().stream().anyMatch(l -> l.matches("MONOTONIC_USEC=\\d+")), systemd.summary());
            assertTrue(messages.get(2).has("STOPPING=1"), systemd.summary());
        }
    }

    @Test
    void anAbstractNameWorksAndATakeOverSaysMainPidThenReady() throws Exception {
        String name = "@forkless-test-" + PID + "-" + System.nanoTime();
        try (FakeSystemd systemd = FakeSystemd.listen(name)) {
            new SystemdNotify(name, System.err).tookOver("serving");
            await().atMost(Duration.ofSeconds(10)).until(() -> !systemd.messages().isEmpty());
            FakeSystemd.Message message = systemd.messages().getFirst();
            assertEquals(PID, message.pid());
            assertEquals(List.of("MAINPID=" + PID, "READY=1", "STATUS=serving"), message.lines());
        }
    }

    /**
     * A runtime that takes over where systemd tracks a PID file writes it and says READY=1 without MAINPID=:
     * systemd takes the pid from the file at the old runtime's exit, as its own child (SystemdUnitIT, with a
     * real systemd). Without a tracked file it says MAINPID=, and writes --pid-file all the same.
     */
    @Test
    void aTakeOverWhereSystemdTracksAPidFileWritesItAndSaysNoMainPid() throws Exception {
        String name = "@forkless-test-" + PID + "-" + System.nanoTime();
        Path tracked = dir.resolve("tracked.pid");
        Path given = dir.resolve("given.pid");
        Files.writeString(tracked, "1\n");
        try (FakeSystemd systemd = FakeSystemd.listen(name)) {
            Service service = new Service(new PidFile(given), new PidFile(tracked), new SystemdNotify(name, System.err), System.err);
            service.serving("serving", () -> { });
            await().atMost(Duration.ofSeconds(10)).until(() -> !systemd.messages().isEmpty());
            assertEquals(List.of("READY=1", "STATUS=serving"), systemd.messages().getFirst().lines(), systemd.summary());
            assertEquals(PID + "\n", Files.readString(tracked));
            assertEquals(PID + "\n", Files.readString(given));
            service.exited();
            assertFalse(Files.exists(tracked) || Files.exists(given), "the runtime that owns them removes them");

            Service untracked = new Service(new PidFile(given), null, new SystemdNotify(name, System.err), System.err);
            int before = systemd.messages().size();
            untracked.serving("serving", () -> { });
            await().atMost(Duration.ofSeconds(10)).until(() -> systemd.messages().stream().skip(before)
                    .anyMatch(m -> m.has("READY=1")));
            assertTrue(systemd.messages().stream().skip(before).anyMatch(m -> m.lines().equals(
                    List.of("MAINPID=" + PID, "READY=1", "STATUS=serving"))), systemd.summary());
            assertEquals(PID + "\n", Files.readString(given));
        }
    }

    @Test
    void withoutASocketNothingIsSentAndABadOneCostsOneWarning() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        SystemdNotify none = new SystemdNotify(null, err);
        assertFalse(none.enabled());
        none.ready("x");
        new SystemdNotify("", err).ready("x");
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));

        SystemdNotify missing = new SystemdNotify(dir.resolve("nobody-listens").toString(), err);
        missing.ready("x");
        missing.stopping();
        String warned = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(1, warned.lines().count(), warned);
        assertTrue(warned.startsWith("forkless: warning: cannot notify systemd at NOTIFY_SOCKET="), warned);

        bytes.reset();
        new SystemdNotify("vsock:2:1234", err).ready("x");
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("neither a path nor an abstract name"), bytes.toString());
    }

    @Test
    void thePidFileIsRemovedOnlyByTheProcessWhosePidItHolds() throws Exception {
        PidFile file = new PidFile(dir.resolve("forkless.pid"));
        file.write();
        assertEquals(PID + "\n", Files.readString(file.path()));
        assertEquals(PID, file.read());
        file.write(PID + 1_000_000); // a runtime that took over wrote its pid
        file.removeIfOwn();
        assertTrue(Files.exists(file.path()), "another runtime's pid stays");
        file.write();
        file.removeIfOwn();
        assertFalse(Files.exists(file.path()));
        assertEquals(-1, file.read());
    }
}
