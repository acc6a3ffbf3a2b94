package dev.forkless.runtime;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;
import dev.forkless.runtime.testing.TestJars;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The probes of issue 14, from outside, against the real runtime.jar: values out of range, inputs that
 * would take unbounded memory or time, forged log lines, a log folder that cannot be written, reloads
 * that pile up, client commands against an admin port that never answers. Bad input is one line and
 * exit code 2, always.
 */
class HardeningIT {

    @TempDir
    static Path dir;

    /** A jar whose manifest inflates to 64 MiB (deflated, it is 64 KiB): the runtime reads at most 1 MiB of it. */
    private static Path inflatingManifest(Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry(JarFile.MANIFEST_NAME));
            out.write("Manifest-Version: 1.0\r\nMain-Class: A".getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[1 << 20];
            java.util.Arrays.fill(block, (byte) 'A');
            for (int i = 0; i < 64; i++) {
                out.write(block);
            }
            out.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.closeEntry();
        }
        return jar;
    }

    private static Path config(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    static Stream<Arguments> outOfRange() throws IOException, InterruptedException {
        String demo = RuntimeProcess.demoJar().toString();
        Path fifo = dir.resolve("config.fifo");
        Files.deleteIfExists(fifo);
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mkfifo.waitFor(), "mkfifo");
        Path huge = dir.resolve("huge.yaml");
        try (OutputStream out = Files.newOutputStream(huge)) {
            out.write("app: \"".getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[1 << 20];
            java.util.Arrays.fill(block, (byte) 'x');
            for (int i = 0; i < 50; i++) {
                out.write(block);
            }
            out.write("\"\n".getBytes(StandardCharsets.US_ASCII));
        }
        Path aFile = Files.writeString(dir.resolve("a-file"), "not a folder");
        return Stream.of(
                // row 1: durations whose arithmetic overflowed
                Arguments.of(new String[] {"--drain-timeout", "9999999h", demo}, "--drain-timeout must be between 0 and 1h, not 9999999h"),
                Arguments.of(new String[] {"--hang-timeout", "9999999h", demo}, "--hang-timeout must be between 0 and 24h, not 9999999h"),
                Arguments.of(new String[] {"--restart-delay", "99999999999999999999999h", demo}, "--restart-delay must be between 0 and 1h"),
                Arguments.of(new String[] {"--ready-timeout", "PT9999999999999H", demo}, "--ready-timeout must be between 1ms and 1h"),
                Arguments.of(new String[] {"--max-restart-delay", "10ms", demo}, "--max-restart-delay (10ms) must not be shorter than --restart-delay"),
                Arguments.of(new String[] {"--config", config("drain.yaml", "drainTimeout: 9223372036854775807\n").toString(), demo},
                        "drain.yaml:1: drainTimeout must be between 0 and 1h, not 9223372036854775807ms"),
                // row 2: counts that started thousands of copies
                Arguments.of(new String[] {"--isolates", "2147483647", demo}, "--isolates must be between 1 and 1024, not 2147483647"),
                Arguments.of(new String[] {"--standby", "100000", demo}, "--standby must be between 0 and 64, not 100000"),
                Arguments.of(new String[] {"--config", config("copies.yaml", "isolates: 2147483647\n").toString(), demo},
                        "copies.yaml:1: isolates must be between 1 and 1024, not 2147483647"),
                Arguments.of(new String[] {"--config", config("standby.yaml", "standby: 100000\n").toString(), demo},
                        "standby.yaml:1: standby must be between 0 and 64, not 100000"),
                Arguments.of(new String[] {"--log-max-size", "99999999999999G", "--logs", dir.resolve("l").toString(), demo},
                        "--log-max-size must be between 1KB and 1TB"),
                Arguments.of(new String[] {"--inbox", "99999999999", demo}, "--inbox must be between 1 and 1048576"),
                // row 3: a manifest that inflates without end
                Arguments.of(new String[] {inflatingManifest(dir.resolve("inflating.jar")).toString()}, "is larger than 1024 KiB"),
                // row 9: config files that are no files, or too big
                Arguments.of(new String[] {"--config", "/dev/zero"}, "cannot read the config file /dev/zero: not a regular file"),
                Arguments.of(new String[] {"--config", fifo.toString()}, "config.fifo: not a regular file"),
                Arguments.of(new String[] {"--config", dir.toString()}, ": it is a directory"),
                Arguments.of(new String[] {"--config", huge.toString()}, "huge.yaml: it is larger than 1024 KiB"),
                Arguments.of(new String[] {"--config", config("deep.yaml", "args: " + "[".repeat(5000) + "\n").toString()}, "deep.yaml"),
                Arguments.of(new String[] {"--config", config("deep.json", "{\"args\": " + "[".repeat(5000)).toString()}, "deep.json"),
                // row 11
                Arguments.of(new String[] {"--admin-token", "x", demo}, "the admin token must be at least 16 characters long, not 1"),
                Arguments.of(new String[] {"--logs", aFile.toString(), demo}, "--logs " + aFile + ": it is a file, not a folder"),
                Arguments.of(new String[] {"--logs", aFile.resolve("sub").toString(), demo}, "cannot create the folder: Not a directory"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("outOfRange")
    void outOfRangeIsOneLineAndExitTwo(String[] args, String message) throws Exception {
        long start = System.nanoTime();
        try (RuntimeProcess runtime = RuntimeProcess.start(args)) {
            assertEquals(2, runtime.awaitExit(Duration.ofSeconds(60)), runtime.output());
            assertEquals(1, runtime.lines().size(), "one line: " + runtime.output());
            String line = runtime.lines().getFirst();
            assertTrue(line.startsWith("forkless: ") && line.contains(message), line);
            assertTrue(line.length() < 400, "short: " + line);
        }
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(50), "no input makes it work for long");
    }

    /** Row 1: the longest timeouts are usable: a stop with a 1 h drain ends at once when nothing is open. */
    @Test
    void theLongestTimeoutsStillStop() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "1", "--standby", "0", "--admin", "off",
                "--drain-timeout", "1h", "--hang-timeout", "24h", "--max-restart-delay", "1h", "--ready-timeout", "1h")) {
            runtime.awaitReady();
            runtime.terminate();
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
            assertFalse(runtime.hasLine(l -> l.contains("Exception") || l.contains("SEVERE")), runtime.output());
        }
    }

    /** Row 5: a copy cannot forge another copy's lines, nor send escape sequences to the operator's terminal. */
    @Test
    void aCopyCannotForgeLinesOrTalkToTheTerminal() throws Exception {
        Path jar = TestJars.testApp(dir.resolve("forging.jar"), testapps.ForgingApp.class);
        Path logs = dir.resolve("forging-logs");
        try (RuntimeProcess runtime = RuntimeProcess.start("--isolates", "1", "--standby", "0", "--admin", "off",
                "--min-uptime", "0", "--logs", logs.toString(), jar.toString())) {
            runtime.awaitLine(l -> l.contains("event=crashed"), Duration.ofSeconds(30));
            // the reader splits lines at \r as a terminal would show them: a raw one would make "[w2] forged" a line
            assertTrue(runtime.hasLine(l -> l.equals("[w1] honest\\r[w2] forged")), runtime.output());
            assertFalse(runtime.hasLine(l -> l.startsWith("[w2]") || l.startsWith("forged")), runtime.output());
            assertTrue(runtime.hasLine(l -> l.equals("[w1] \\e[2J\\e]0;pwned\\x07\\e[31mred")), runtime.output());
            assertTrue(runtime.hasLine(l -> l.equals("[w1] bell\\x07 rtl\\u202eevil")), runtime.output());
            assertTrue(runtime.hasLine(l -> l.equals("[w1] windows line")), "a CRLF line end is a line end: " + runtime.output());
            String crashed = runtime.lines().stream().filter(l -> l.contains("event=crashed")).findFirst().orElseThrow();
            assertTrue(crashed.contains("boom \\e[31mred\\r[w2] forged cause"), crashed);
            for (String line : runtime.lines()) {
                assertTrue(line.chars().noneMatch(c -> c < 0x20 && c != '\t' || c == 0x7f || c == 0x202e), "raw: " + line);
            }
            runtime.terminate();
            runtime.awaitExit(Duration.ofSeconds(30));
        }
        try (Stream<Path> files = Files.list(logs)) {
            for (Path file : files.toList()) {
                String text = Files.readString(file);
                assertTrue(text.chars().noneMatch(c -> c < 0x20 && c != '\t' && c != '\n' || c == 0x202e),
                        "raw control characters in " + file + ": " + text);
            }
        }
        assertTrue(Files.readString(logs.resolve("forging-1-out.log")).contains("honest\\r[w2] forged\n"));
        Admin.Cli logsCommand = Admin.cli("logs", "--dir", logs.toString());
        assertEquals(0, logsCommand.exitCode(), logsCommand.err().toString());
        assertTrue(logsCommand.out().stream().anyMatch(l -> l.equals("honest\\r[w2] forged")), logsCommand.out().toString());
    }

    /** Row 5: escape sequences reach the console when the operator asks for them; carriage returns never. */
    @Test
    void consoleEscapesLetColoursThrough() throws Exception {
        Path jar = TestJars.testApp(dir.resolve("forging-colours.jar"), testapps.ForgingApp.class);
        try (RuntimeProcess runtime = RuntimeProcess.start("--isolates", "1", "--standby", "0", "--admin", "off",
                "--console-escapes", jar.toString())) {
            runtime.awaitLine(l -> l.contains("red"), Duration.ofSeconds(30));
            assertTrue(runtime.hasLine(l -> l.equals("[w1] \u001b[2J\u001b]0;pwned\\x07\u001b[31mred")), runtime.output());
            assertTrue(runtime.hasLine(l -> l.equals("[w1] honest\\r[w2] forged")), runtime.output());
        }
    }

    /** Row 6: a log folder the runtime cannot write in is refused at start with the system's reason. */
    @Test
    void anUnwritableLogFolderIsRefusedAtStartWithTheReason() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv runs the runtime as nobody");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "only root can become nobody");
        // not under the test's temporary folder: that one is its owner's only
        Path readOnly = Files.createTempDirectory("forkless-read-only-logs");
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        readOnly.toFile().deleteOnExit();
        List<String> command = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups", RuntimeProcess.artifact("forkless.java").toString(), "-Duser.home=/tmp", "-jar",
                RuntimeProcess.artifact("forkless.runtime.jar").toString(), "--admin", "off", "--logs", readOnly.toString(),
                RuntimeProcess.demoJar().toString(), "--port", "0"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Assumptions.assumeFalse(output.contains("Permission denied") && output.contains("runtime.jar"),
                "nobody cannot read the build's jars here: " + output);
        assertEquals(2, p.exitValue(), output);
        assertEquals(List.of("forkless: --logs " + readOnly + ": cannot write in the folder: Permission denied"),
                output.lines().toList());
    }

    /** Row 7: twenty SIGHUPs within a second make one more reload, not twenty. */
    @Test
    void reloadsThatPileUpCoalesce() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "1", "--standby", "0", "--admin", "off",
                "--ready-timeout", "60s")) { // a busy machine must not fail the reloads themselves
            var address = runtime.awaitReady();
            for (int i = 0; i < 20; i++) {
                Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(runtime.pid())).start();
                assertEquals(0, kill.waitFor());
            }
            // every reload started has ended, and stays so for a quiet second: nothing else was queued
            await().atMost(Duration.ofSeconds(60)).during(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(100))
                    .until(() -> runtime.count(l -> l.contains("event=reloading")) > 0
                            && runtime.count(l -> l.contains("event=reloaded")) == runtime.count(l -> l.contains("event=reloading")));
            long reloads = runtime.count(l -> l.contains("event=reloading"));
            assertTrue(reloads >= 1 && reloads <= 3, reloads + " reloads for 20 SIGHUPs:\n" + runtime.output());
            assertEquals(reloads, runtime.count(l -> l.contains("event=reloaded ok=true")), runtime.output());
            assertEquals(200, Http.get(address, "/").status());
        }
    }

    /**
     * Row 10: a client command against an admin port that accepts and never answers gives up: exit 3. Each
     * command once; {@code list} with the default wait (10 s for a read), the others with {@code --timeout 1s},
     * which caps every request of a command (a script's health check is not held for 10 s).
     */
    @Test
    void clientCommandsGiveUpOnASilentAdminPort() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // and never answer
                    }
                } catch (IOException closed) {
                    // the test ended
                }
            });
            String address = "127.0.0.1:" + silent.getLocalPort();
            for (String[] command : List.of(new String[] {"reload"}, new String[] {"list"}, new String[] {"stop"},
                    new String[] {"scale", "2"}, new String[] {"monit", "--iterations", "1"}, new String[] {"metering", "off"})) {
                List<String> args = new ArrayList<>(List.of(command));
                args.addAll(List.of("--admin", address));
                boolean byDefault = command[0].equals("list");
                if (!byDefault) {
                    args.addAll(List.of("--timeout", "1s"));
                }
                long start = System.nanoTime();
                Admin.Cli cli = Admin.cli(args.toArray(String[]::new));
                long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
                assertEquals(3, cli.exitCode(), command[0] + ": " + cli.err());
                assertEquals(1, cli.err().size(), cli.err().toString());
                assertTrue(cli.err().getFirst().contains("no answer from http://" + address + " within "
                        + (byDefault ? "10 s" : "1 s")), cli.err().toString());
                assertTrue(seconds < 40, command[0] + " took " + seconds + " s");
            }
            silent.close();
            acceptor.join(Duration.ofSeconds(5));
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    /** Row 11: client commands' bad usage is exit 2 with the reason, before any runtime is asked. */
    @Test
    void clientBadUsageNamesTheReason() throws Exception {
        Admin.Cli scale = Admin.cli("scale", "5000", "--admin", "127.0.0.1:1");
        assertEquals(2, scale.exitCode(), scale.err().toString());
        assertEquals(List.of("forkless: scale must be between 1 and 1024, not 5000"), scale.err());
        Admin.Cli directory = Admin.cli("reload", "--admin", "127.0.0.1:1", "--token-file", dir.toString());
        assertEquals(2, directory.exitCode(), directory.err().toString());
        assertEquals(List.of("forkless: --token-file " + dir + ": it is a directory"), directory.err());
        Admin.Cli timeout = Admin.cli("reload", "--admin", "127.0.0.1:1", "--timeout", "99999999h");
        assertEquals(2, timeout.exitCode(), timeout.err().toString());
        assertTrue(timeout.err().getFirst().contains("--timeout must be between 1s and 24h"), timeout.err().toString());
        Admin.Cli metering = Admin.cli("metering", "web", "maybe", "--admin", "127.0.0.1:1");
        assertEquals(2, metering.exitCode(), metering.err().toString());
        assertEquals(List.of("forkless: metering takes on or off, not 'maybe'"), metering.err());
        Admin.Cli name = Admin.cli("metering", "../x", "off", "--admin", "127.0.0.1:1");
        assertEquals(2, name.exitCode(), name.err().toString());
        assertEquals(List.of("forkless: '../x' is not an app's name (see forkless ls)"), name.err());
    }

    /** Row 11: a token folder open to every user is made the owner's only, with a warning. */
    @Test
    void anOpenTokenFolderIsMadeTheOwnersOnly() throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        Path folder = Files.createDirectories(home.resolve(".forkless"));
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxrwxrwx"));
        // named by forkless.home: the tests' environment names another folder (FORKLESS_HOME, see the pom)
        try (RuntimeProcess runtime = RuntimeProcess.demoWithJvmArgs(List.of("-Dforkless.home=" + folder),
                "--isolates", "1", "--standby", "0", "--admin", "127.0.0.1:0")) {
            Admin admin = Admin.of(runtime);
            assertTrue(admin.tokenFile().startsWith(folder), admin.tokenFile().toString());
            assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(folder));
            assertTrue(runtime.hasLine(l -> l.equals("forkless: warning: the folder " + folder
                    + " was open to other users (rwxrwxrwx): made it rwx------, the owner's only")), runtime.output());
        }
    }

    /** The manifest limit leaves real apps alone: a Class-Path of many jars is still read. */
    @Test
    void aNormalManifestIsRead() throws Exception {
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "no.Such");
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, "lib/a.jar ".repeat(2000));
        Path jar = dir.resolve("long-class-path.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.flush();
        }
        try (RuntimeProcess runtime = RuntimeProcess.start("--admin", "off", jar.toString())) {
            assertEquals(2, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
            assertTrue(runtime.lines().getFirst().contains("no.Such"), "it got to the main class: " + runtime.output());
        }
    }
}
