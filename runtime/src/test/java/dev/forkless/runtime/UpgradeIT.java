package dev.forkless.runtime;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.FakeSystemd;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code forkless upgrade}, end to end: a runtime started as the unit {@code startup systemd} prints runs it
 * (under a fake systemd: this machine has none), serves keep-alive load, and is upgraded to a copy of
 * runtime.jar: no request fails, the new runtime JVM is the service's main process (MAINPID=) and in the
 * PID file before the old one exits 0. A runtime of several apps hands over every app's socket and its
 * admin address through {@code POST /api/upgrade}. Bad input is one line and exit 2, a new runtime that
 * cannot start is exit 1, and the old runtime serves on through both.
 */
class UpgradeIT {

    private static final Pattern UPGRADED = Pattern.compile("^upgrade: runtime pid (\\d+) serves, pid (\\d+) drains and exits$");

    private static final Pattern READY = Pattern.compile("^forkless ready: \\S+: \\d+ \\S+ serving \\[([^:]+):(\\d+)]");

    /** How long an upgrade gets: a new runtime JVM starts its copies (45 s for one isolate seen at load 40). */
    private static final Duration UPGRADE_WAIT = Duration.ofSeconds(180);

    @TempDir
    Path dir;

    /** The new runtimes the tests made: not children of the test, so killed here. */
    private final List<ProcessHandle> started = new ArrayList<>();

    @AfterEach
    void stopNewRuntimes() {
        // also those a failed upgrade left without telling its pid: their command line names this test's folder
        String folder = dir.toString();
        ProcessHandle.allProcesses()
                .filter(p -> p.pid() != ProcessHandle.current().pid() && !started.contains(p))
                .filter(p -> p.info().commandLine().map(c -> c.contains(folder)).orElse(false))
                .forEach(started::add);
        for (ProcessHandle handle : started) {
            handle.destroy();
            handle.onExit().orTimeout(20, TimeUnit.SECONDS).exceptionally(e -> {
                handle.destroyForcibly();
                return handle;
            }).join();
        }
    }

    private ProcessHandle track(long pid) {
        ProcessHandle handle = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
        started.add(handle);
        return handle;
    }

    /** A Forkless folder of the test's own (token files, the registry), its owner's only as the runtime wants it. */
    private Map<String, String> home() throws IOException {
        Path home = dir.resolve("home");
        if (!Files.isDirectory(home)) {
            Files.createDirectory(home, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        return Map.of("FORKLESS_HOME", home.toString());
    }

    @Test
    void anUpgradeToANewRuntimeJarUnderKeepAliveLoadFailsNoRequestAndSystemdFollowsIt() throws Exception {
        Path nextJar = Files.copy(RuntimeProcess.artifact("forkless.runtime.jar"), dir.resolve("runtime-next.jar"));
        Path pidFile = dir.resolve("forkless.pid");
        // an admin port of its own: the default one is the first free from 9615 up, which another runtime on the
        // machine (a second build's test) may take while the admin address passes from the old runtime to the new
        int adminPort = freePort();
        Admin.Cli unit = Admin.cliWithEnvironment(home(), "startup", "systemd", "--name", "forkless-it", "--",
                "--isolates", "2", "--standby", "0", "--drain-timeout", "2s", "--pid-file", pidFile.toString(),
                "--admin", "127.0.0.1:" + adminPort,
                RuntimeProcess.demoJar().toAbsolutePath().toString(), "--port", "0", "--host", "127.0.0.1");
        assertEquals(0, unit.exitCode(), unit.err().toString());
        Map<String, String> keys = unitKeys(unit.out());
        assertEquals("notify", keys.get("Service.Type"), "systemd waits for READY=1 and follows MAINPID=");
        assertEquals("all", keys.get("Service.NotifyAccess"), "the new runtime is not the process systemd started");
        assertTrue(String.join("\n", unit.out()).contains("upgrade"), "the unit says how to upgrade");
        String execStart = keys.get("Service.ExecStart");
        assertFalse(execStart.contains("\""), "no quoted words to split: " + execStart);

        try (FakeSystemd systemd = FakeSystemd.listen("@forkless-upgrade-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime())) {
            Map<String, String> environment = new LinkedHashMap<>(home());
            environment.put("NOTIFY_SOCKET", systemd.address());
            try (RuntimeProcess runtime = RuntimeProcess.command(List.of(execStart.split(" ")), environment,
                    Path.of(keys.get("Service.WorkingDirectory")))) {
                InetSocketAddress address = runtime.awaitReady();
                long oldPid = runtime.pid();
                await().atMost(Duration.ofSeconds(30)).until(() -> systemd.received(oldPid, "READY=1"::equals));
                assertEquals(oldPid + "\n", Files.readString(pidFile));

                long served;
                try (KeepAliveLoad load = KeepAliveLoad.start(address, "/", 8, Duration.ofSeconds(300))) {
                    await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > 100);
                    Admin.Cli upgrade = Admin.cliWithEnvironment(UPGRADE_WAIT, home(), "upgrade", "--runtime", nextJar.toString());
                    assertEquals(0, upgrade.exitCode(), upgrade + "\n" + runtime.tail(60));
                    assertEquals(1, upgrade.out().size(), upgrade.toString());
                    Matcher m = UPGRADED.matcher(upgrade.out().getFirst());
                    assertTrue(m.matches(), upgrade.out().getFirst());
                    long newPid = Long.parseLong(m.group(1));
                    assertEquals(oldPid, Long.parseLong(m.group(2)));
                    ProcessHandle next = track(newPid);
                    assertTrue(next.info().commandLine().orElse("").contains(nextJar.toString()),
                            "the new runtime runs the new jar: " + next.info().commandLine());

                    assertTrue(runtime.process().waitFor(120, TimeUnit.SECONDS), runtime.tail(60));
                    assertEquals(0, runtime.process().exitValue(), "the old runtime drains and exits 0");
                    // the new runtime told systemd before the old one exited (the old waits for its ready)
                    assertTrue(systemd.from(newPid).stream().anyMatch(msg -> msg.has("MAINPID=" + newPid) && msg.has("READY=1")),
                            systemd.summary());
                    assertFalse(systemd.received(oldPid, "STOPPING=1"::equals), "the old runtime handed over: " + systemd.summary());
                    assertEquals(newPid + "\n", Files.readString(pidFile), "the PID file holds the new runtime");

                    assertTrue(Http.get(address, "/whoami").body().contains("\"pid\":" + newPid), "the new runtime serves");
                    assertTrue(Admin.of(runtime).get("/api/runtime").body().contains("\"pid\":" + newPid));
                    served = load.ok();
                    await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > served + 100);

                    // systemctl reload: SIGHUP to the main process, the new runtime: RELOADING=1, then READY=1
                    int before = systemd.from(newPid).size();
                    Process hup = new ProcessBuilder("kill", "-HUP", String.valueOf(newPid)).start();
                    assertEquals(0, hup.waitFor());
                    await().atMost(Duration.ofSeconds(60)).until(() -> {
                        List<FakeSystemd.Message> since = systemd.from(newPid);
                        since = since.subList(Math.min(before, since.size()), since.size());
                        int reloading = indexOf(since, "RELOADING=1");
                        return reloading >= 0 && indexOf(since.subList(reloading + 1, since.size()), "READY=1") >= 0;
                    });
                    load.close();
                    System.out.println("UpgradeIT upgrade under load: " + load.summary());
                    assertEquals(0, load.failed(), load.summary());
                    assertTrue(load.ok() > served, load.summary());

                    // systemd stops the service: SIGTERM to its main process, the new runtime
                    next.destroy();
                    assertTrue(next.onExit().orTimeout(30, TimeUnit.SECONDS).handle((p, e) -> e == null).join(),
                            "the new runtime stops on SIGTERM");
                    assertTrue(systemd.received(newPid, "STOPPING=1"::equals), systemd.summary());
                    assertFalse(Files.exists(pidFile), "the runtime that owns the PID file removes it at exit");
                }
            }
        }
    }

    @Test
    void aRuntimeOfSeveralAppsHandsOverEveryAppAndItsAdminAddressThroughTheApi() throws Exception {
        int adminPort = freePort();
        String demo = RuntimeProcess.demoJar().toAbsolutePath().toString();
        Path config = Files.writeString(dir.resolve("forkless.yaml"), """
                admin: 127.0.0.1:%d
                standby: 0
                drainTimeout: 2s
                apps:
                  - name: web
                    app: %s
                    args: [--port, "0", --host, 127.0.0.1]
                  - name: api
                    app: %s
                    args: [--port, "0", --host, 127.0.0.1]
                """.formatted(adminPort, demo, demo));
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(home(), "--config", config.toString(), "--isolates", "1")) {
            await().atMost(Duration.ofSeconds(90)).until(() -> runtime.count(l -> l.startsWith("forkless ready: ")) == 2
                    || !runtime.process().isAlive());
            List<InetSocketAddress> addresses = new ArrayList<>();
            for (String line : runtime.lines()) {
                Matcher ready = READY.matcher(line);
                if (ready.find()) {
                    addresses.add(new InetSocketAddress(ready.group(1), Integer.parseInt(ready.group(2))));
                }
            }
            assertEquals(2, addresses.size(), runtime.output());
            Admin admin = Admin.of(runtime);
            String token = admin.token();
            try (KeepAliveLoad web = KeepAliveLoad.start(addresses.get(0), "/", 4, Duration.ofSeconds(300));
                 KeepAliveLoad api = KeepAliveLoad.start(addresses.get(1), "/", 4, Duration.ofSeconds(300))) {
                await().atMost(Duration.ofSeconds(60)).until(() -> web.ok() > 50 && api.ok() > 50);
                var answer = postOnceConnected(admin, "/api/upgrade");
                assertEquals(202, answer.statusCode(), answer.body());
                Matcher m = Pattern.compile("\"pid\":(\\d+)").matcher(answer.body());
                assertTrue(m.find(), answer.body());
                long newPid = Long.parseLong(m.group(1));
                track(newPid);
                await().atMost(UPGRADE_WAIT).ignoreExceptions()
                        .until(() -> admin.get("/api/runtime").body().contains("\"pid\":" + newPid));
                assertEquals(token, admin.token(), "the new runtime keeps the admin token, in the same file");
                assertEquals(200, admin.post("/api/scale?app=web&n=1").statusCode(), "the kept token is accepted");
                assertTrue(runtime.process().waitFor(120, TimeUnit.SECONDS), runtime.tail(60));
                assertEquals(0, runtime.process().exitValue(), "the old runtime drains and exits 0");
                for (InetSocketAddress address : addresses) {
                    assertTrue(Http.get(address, "/whoami").body().contains("\"pid\":" + newPid), address.toString());
                }
                long webServed = web.ok();
                long apiServed = api.ok();
                await().atMost(Duration.ofSeconds(60)).until(() -> web.ok() > webServed + 50 && api.ok() > apiServed + 50);
                web.close();
                api.close();
                System.out.println("UpgradeIT several apps: web " + web.summary() + "; api " + api.summary());
                assertEquals(0, web.failed(), "web: " + web.summary());
                assertEquals(0, api.failed(), "api: " + api.summary());
            }
        }
    }

    @Test
    void badInputIsOneLineAndExitTwoAndANewRuntimeThatCannotStartIsExitOneTheOldOneServesOn() throws Exception {
        int adminPort = freePort();
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(home(), "--isolates", "1", "--standby", "0",
                "--admin", "127.0.0.1:" + adminPort, RuntimeProcess.demoJar().toString(), "--port", "0", "--host", "127.0.0.1")) {
            InetSocketAddress address = runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            long pid = runtime.pid();
            String target = "127.0.0.1:" + adminPort;

            // each refused by another part: the CLI, the runtime (UpgradeTargetTest has the runtime's other
            // refusals: not a jar, no handover in it, a JDK too old, a file every user may write), the registry
            Map<List<String>, String> cases = new LinkedHashMap<>();
            cases.put(List.of("upgrade", "--admin", target, "--runtime", dir.resolve("missing.jar").toString()), "no such file");
            cases.put(List.of("upgrade", "--admin", target, "--java", "/bin/sh"), "not a java launcher");
            cases.put(List.of("upgrade", "nosuchapp"), "no runtime runs the app 'nosuchapp'");
            Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
            if (Files.isExecutable(jdk17)) { // a real JDK too old for the runtime jar, where the machine has one
                cases.put(List.of("upgrade", "--admin", target, "--java", jdk17.toString()), "is Java 17;");
            }
            for (Map.Entry<List<String>, String> c : cases.entrySet()) {
                Admin.Cli cli = Admin.cliWithEnvironment(home(), c.getKey().toArray(String[]::new));
                assertEquals(2, cli.exitCode(), c.getKey() + ": " + cli);
                assertEquals(1, cli.err().size(), c.getKey() + ": " + cli);
                assertTrue(cli.err().getFirst().startsWith("forkless: ") && cli.err().getFirst().contains(c.getValue()),
                        c.getKey() + ": " + cli);
                assertEquals(List.of(), cli.out(), c.getKey().toString());
            }
            var relative = admin.post("/api/upgrade?runtime=runtime.jar");
            assertEquals(400, relative.statusCode(), relative.body());
            assertEquals(401, admin.post("/api/upgrade", null, null).statusCode(), "the token is needed");

            // a launcher that passes the checks but exits at once: the new runtime never serves
            Path bin = Files.createDirectories(dir.resolve("broken-jdk/bin"));
            Files.writeString(dir.resolve("broken-jdk/release"), "JAVA_VERSION=\"" + Runtime.version().feature() + "\"\n");
            Path java = Files.writeString(bin.resolve("java"), "#!/bin/sh\necho 'broken java' >&2\nexit 3\n");
            Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
            Admin.Cli broken = Admin.cliWithEnvironment(UPGRADE_WAIT, home(), "upgrade", "--admin", target, "--java", java.toString());
            assertEquals(1, broken.exitCode(), broken.toString());
            assertEquals(1, broken.err().size(), broken.toString());
            assertTrue(broken.err().getFirst().contains("upgrade failed: the new runtime exited with 3")
                    && broken.err().getFirst().endsWith("runtime pid " + pid + " serves on"), broken.toString());

            assertTrue(runtime.process().isAlive(), runtime.tail(40));
            assertTrue(Http.get(address, "/whoami").body().contains("\"pid\":" + pid), "the old runtime serves on");
            String status = admin.get("/api/runtime").body();
            assertTrue(status.contains("\"pid\":" + pid) && status.contains("\"state\":\"failed\""), status);
            // and it can still be upgraded after all that
            Admin.Cli upgrade = Admin.cliWithEnvironment(UPGRADE_WAIT, home(), "upgrade", "--admin", target);
            assertEquals(0, upgrade.exitCode(), upgrade + "\n" + runtime.tail(60));
            Matcher m = UPGRADED.matcher(upgrade.out().getFirst());
            assertTrue(m.matches(), upgrade.toString());
            track(Long.parseLong(m.group(1)));
            assertTrue(runtime.process().waitFor(120, TimeUnit.SECONDS), runtime.tail(60));
            assertEquals(0, runtime.process().exitValue());
        }
    }

    /**
     * The admin API moves by close and bind (Helidon takes no socket): should another process take its port
     * in that gap (here a stand-in answering as another runtime would; on a machine, a runtime starting with
     * the default address), the new runtime takes the next free port, says so, and {@code upgrade} follows it
     * through the registry.
     */
    @Test
    void anAdminPortTakenWhileItMovesIsFollowedThroughTheRegistry() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(home(), "--isolates", "1", "--standby", "0",
                RuntimeProcess.demoJar().toString(), "--port", "0", "--host", "127.0.0.1")) {
            InetSocketAddress address = runtime.awaitReady();
            Admin admin = Admin.of(runtime); // the default address: the first free port from 9615 up
            int oldPort = admin.url().getPort();
            // binds the moment the old runtime lets the port go, then answers every request as another
            // runtime would; a bind that fails closes its socket (a loop of failed binds must not leak)
            java.util.concurrent.atomic.AtomicReference<ServerSocket> thief = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread taker = Thread.ofPlatform().name("port-taker").start(() -> {
                while (!done.get()) {
                    ServerSocket socket = null;
                    try {
                        socket = new ServerSocket();
                        socket.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), oldPort), 16);
                        thief.set(socket);
                        break;
                    } catch (IOException taken) {
                        if (socket != null) {
                            try {
                                socket.close();
                            } catch (IOException ignored) {
                                // closing a socket that never bound
                            }
                        }
                        java.util.concurrent.locks.LockSupport.parkNanos(200_000);
                    }
                }
                ServerSocket server = thief.get();
                while (server != null && !server.isClosed() && !done.get()) {
                    try (java.net.Socket client = accept(server)) {
                        if (client == null) {
                            continue;
                        }
                        client.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                + "Content-Length: 9\r\nConnection: close\r\n\r\n{\"pid\":1}")
                                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    } catch (IOException closed) {
                        // the test closed the socket, or the client went
                    }
                }
            });
            try {
                Admin.Cli upgrade = Admin.cliWithEnvironment(UPGRADE_WAIT, home(), "upgrade");
                assertEquals(0, upgrade.exitCode(), upgrade + "\n" + runtime.tail(60));
                // the stand-in took the port in the gap, or another process of the machine did (a runtime of
                // another test class, when the integration tests run two at a time): the lines below hold either way
                Matcher m = UPGRADED.matcher(upgrade.out().getFirst());
                assertTrue(m.matches(), upgrade.toString());
                long newPid = Long.parseLong(m.group(1));
                track(newPid);
                assertEquals(2, upgrade.out().size(), upgrade.toString());
                assertTrue(upgrade.out().get(1).matches("upgrade: its admin API is at http://127\\.0\\.0\\.1:\\d+ \\(http://127\\.0\\.0\\.1:"
                        + oldPort + " was taken while it moved\\)"), upgrade.toString());
                await().atMost(Duration.ofSeconds(30)).until(() -> runtime.hasLine(l ->
                        l.startsWith("forkless: warning: admin port " + oldPort + ", handed over by the old runtime, was taken")));
                assertTrue(runtime.process().waitFor(120, TimeUnit.SECONDS), runtime.tail(60));
                assertEquals(0, runtime.process().exitValue(), "the old runtime drains and exits 0");
                // the client commands find the new runtime through the registry too
                Admin.Cli list = Admin.cliWithEnvironment(home(), "list");
                assertEquals(0, list.exitCode(), list.toString());
                assertTrue(Http.get(address, "/whoami").body().contains("\"pid\":" + newPid), "the new runtime serves");
            } finally {
                done.set(true);
                taker.join();
                if (thief.get() != null) {
                    thief.get().close();
                }
            }
        }
    }

    /** @return the next connection, or null after 200 ms without one */
    private static java.net.Socket accept(ServerSocket server) throws IOException {
        server.setSoTimeout(200);
        try {
            return server.accept();
        } catch (java.net.SocketTimeoutException none) {
            return null;
        }
    }

    /**
     * POSTs with the token, trying again while the connection cannot even be made (a runtime too busy to
     * accept within the client's 5 s on an overloaded machine): such a request was never sent.
     */
    private static java.net.http.HttpResponse<String> postOnceConnected(Admin admin, String path) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                return admin.post(path);
            } catch (java.net.http.HttpConnectTimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }

    /** @return the index of the first message with that line, or -1 */
    private static int indexOf(List<FakeSystemd.Message> messages, String line) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).has(line)) {
                return i;
            }
        }
        return -1;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** The unit's keys, {@code Section.Key}, comments left out. */
    private static Map<String, String> unitKeys(List<String> unit) {
        Map<String, String> keys = new LinkedHashMap<>();
        String section = "";
        for (String line : unit) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("[")) {
                section = l.substring(1, l.length() - 1);
                continue;
            }
            int eq = l.indexOf('=');
            keys.put(section + "." + l.substring(0, eq), l.substring(eq + 1));
        }
        return keys;
    }
}
