package dev.forkless.runtime.cli;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.PrivateSystemd;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The unit {@code startup systemd} prints, run by a real systemd (a private one, PID 1 of its own
 * namespaces: {@link PrivateSystemd}): {@code systemctl start} returns once the runtime said READY=1 and
 * systemd's main PID is the runtime's; {@code forkless upgrade} under keep-alive load fails no request and
 * systemd follows it to the new runtime JVM (MAINPID=) without taking the old one's exit for the service's
 * (the unit stays active, not restarted); {@code systemctl stop} ends every process of the service.
 * Skipped where a private systemd cannot run (not root, no systemd), with the reason.
 */
class SystemdUnitIT {

    private static final Pattern UPGRADED = Pattern.compile("^upgrade: runtime pid (\\d+) serves, pid (\\d+) drains and exits$");

    private static final String UNIT = "forkless-it";

    @TempDir
    Path dir;

    @Test
    void systemdRunsThePrintedUnitAndFollowsAnUpgradeUnderLoadToTheNewRuntime() throws Exception {
        Path app = Files.createDirectory(dir.resolve("app"));
        Path home = Files.createDirectory(app.resolve("home"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Map<String, String> environment = Map.of("FORKLESS_HOME", home.toString());
        Path pidFile = app.resolve("forkless.pid");
        Path log = app.resolve("runtime.log");
        Path nextJar = Files.copy(RuntimeProcess.artifact("forkless.runtime.jar"), app.resolve("runtime-next.jar"));
        int port = freePort();
        int adminPort = freePort();
        Admin.Cli unit = Admin.cliWithEnvironment(environment, "startup", "systemd", "--name", UNIT, "--",
                "--isolates", "2", "--standby", "0", "--drain-timeout", "2s", "--pid-file", pidFile.toString(),
                "--admin", "127.0.0.1:" + adminPort,
                RuntimeProcess.demoJar().toAbsolutePath().toString(), "--port", String.valueOf(port), "--host", "127.0.0.1");
        assertEquals(0, unit.exitCode(), unit.err().toString());

        try (PrivateSystemd systemd = PrivateSystemd.start(Files.createDirectory(dir.resolve("systemd")))) {
            // the unit as printed; a drop-in adds what the test needs: its own Forkless folder, a log file
            Files.write(systemd.units().resolve(UNIT + ".service"), unit.out());
            Path dropIn = Files.createDirectory(systemd.units().resolve(UNIT + ".service.d"));
            Files.writeString(dropIn.resolve("test.conf"), """
                    [Service]
                    Environment=FORKLESS_HOME=%s
                    StandardOutput=append:%s
                    """.formatted(home, log));
            assertEquals(0, systemd.systemctl("daemon-reload").exitCode());

            PrivateSystemd.Result start = systemd.systemctl("start", UNIT);
            assertEquals(0, start.exitCode(), start + "\n" + tail(log) + systemd.logs());
            Map<String, String> started = systemd.show(UNIT, "MainPID", "ActiveState", "SubState", "NRestarts", "InvocationID");
            assertEquals("active", started.get("ActiveState"), started + "\n" + tail(log));
            assertEquals("running", started.get("SubState"), started.toString());
            long oldPid = Long.parseLong(started.get("MainPID"));
            // systemd's main PID is the runtime: it wrote that PID file, and its copies serve the app
            assertEquals(oldPid + "\n", Files.readString(pidFile), "MainPID is the runtime's pid");
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            assertTrue(Http.get(address, "/whoami").body().contains("\"pid\":" + oldPid), "the runtime serves");
            ProcessHandle old = systemd.hostPid(oldPid).orElseThrow(() -> new AssertionError("no runtime " + oldPid));
            assertTrue(old.info().commandLine().orElse("").contains(RuntimeProcess.artifact("forkless.runtime.jar").toString()),
                    "the main process runs runtime.jar: " + old.info().commandLine());

            long newPid;
            try (KeepAliveLoad load = KeepAliveLoad.start(address, "/", 8, Duration.ofSeconds(300))) {
                await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > 100);
                // forkless upgrade run where systemd's processes are: the registry holds their PIDs
                List<String> upgrade = List.of(RuntimeProcess.artifact("forkless.java").toString(), "-jar",
                        RuntimeProcess.artifact("forkless.runtime.jar").toString(), "upgrade", "--runtime", nextJar.toString());
                PrivateSystemd.Result upgraded = systemd.exec(Duration.ofSeconds(180), environment, upgrade);
                assertEquals(0, upgraded.exitCode(), upgraded + "\n" + tail(log));
                Matcher m = UPGRADED.matcher(upgraded.out());
                assertTrue(m.matches(), upgraded.toString());
                newPid = Long.parseLong(m.group(1));
                assertEquals(oldPid, Long.parseLong(m.group(2)));

                assertTrue(old.onExit().orTimeout(120, TimeUnit.SECONDS).handle((p, e) -> e == null).join(),
                        "the old runtime drains and exits\n" + tail(log));
                served(load, 100);
                load.close();
                System.out.println("SystemdUnitIT upgrade under load: " + load.summary());
                assertEquals(0, load.failed(), load.summary());
            }
            // systemd followed the upgrade: the new runtime is the main process, the service never left active
            Map<String, String> upgraded = systemd.show(UNIT, "MainPID", "ActiveState", "SubState", "NRestarts", "InvocationID");
            assertEquals(String.valueOf(newPid), upgraded.get("MainPID"), upgraded + "\n" + tail(log));
            assertEquals("active", upgraded.get("ActiveState"), upgraded.toString());
            assertEquals("running", upgraded.get("SubState"), upgraded.toString());
            assertEquals("0", upgraded.get("NRestarts"), "not restarted: " + upgraded);
            assertEquals(started.get("InvocationID"), upgraded.get("InvocationID"), "the same run of the unit");
            assertEquals(newPid + "\n", Files.readString(pidFile), "the PID file holds the new runtime");
            assertTrue(Http.get(address, "/whoami").body().contains("\"pid\":" + newPid), "the new runtime serves");
            ProcessHandle next = systemd.hostPid(newPid).orElseThrow(() -> new AssertionError("no runtime " + newPid));
            assertTrue(next.info().commandLine().orElse("").contains(nextJar.toString()),
                    "the new runtime runs the new jar: " + next.info().commandLine());

            // systemctl stop: SIGTERM to the main process, the new runtime, which drains and stops its copies
            PrivateSystemd.Result stop = systemd.systemctl("stop", UNIT);
            assertEquals(0, stop.exitCode(), stop.toString());
            Map<String, String> stopped = systemd.show(UNIT, "ActiveState", "Result", "ExecMainStatus", "NRestarts");
            assertEquals("inactive", stopped.get("ActiveState"), stopped + "\n" + tail(log) + systemd.logs());
            assertEquals("success", stopped.get("Result"), "stopped, not failed: " + stopped + "\n" + tail(log));
            assertEquals("0", stopped.get("NRestarts"), stopped.toString());
            assertFalse(next.isAlive(), "the new runtime ended");
            assertEquals(List.of(), ProcessHandle.allProcesses()
                    .filter(p -> p.info().commandLine().orElse("").contains(app.toString()))
                    .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList(),
                    "no process of the service is left");
            assertFalse(Files.exists(pidFile), "the runtime that owns the PID file removes it at exit");
        }
    }

    private static void served(KeepAliveLoad load, int more) {
        long now = load.ok();
        await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > now + more);
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return "--- runtime log\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 400), lines.size())) + "\n";
        } catch (IOException e) {
            return "--- runtime log: " + e + "\n";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
