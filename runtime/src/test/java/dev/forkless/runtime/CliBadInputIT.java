package dev.forkless.runtime;

import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input: one line on stderr naming the problem, exit code 2, nothing left running. */
class CliBadInputIT {

    @TempDir
    static Path dir;

    static Stream<Arguments> badInput() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.jar"), "not a jar at all");
        Path noMain = dir.resolve("no-main.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(noMain), manifest)) {
            out.flush();
        }
        String demo = RuntimeProcess.demoJar().toString();
        byte[] fat = Files.readAllBytes(RuntimeProcess.artifact("forkless.demo.fatjar"));
        Path truncated = Files.write(dir.resolve("truncated.jar"), java.util.Arrays.copyOf(fat, fat.length / 2));
        Path privateMain = dev.forkless.runtime.testing.TestJars.oddMain(dir.resolve("private-main.jar"),
                java.lang.classfile.ClassFile.ACC_PRIVATE | java.lang.classfile.ClassFile.ACC_STATIC, -1);
        Path instanceMainNoConstructor = dev.forkless.runtime.testing.TestJars.oddMain(
                dir.resolve("instance-main.jar"), java.lang.classfile.ClassFile.ACC_PUBLIC,
                java.lang.classfile.ClassFile.ACC_PRIVATE);
        Path garbage = dev.forkless.runtime.testing.TestJars.garbageMain(dir.resolve("garbage.jar"));
        return Stream.of(
                Arguments.of(new String[] {dir.resolve("missing.jar").toString()}, "no such file"),
                Arguments.of(new String[] {text.toString()}, "not a jar file"),
                Arguments.of(new String[] {noMain.toString()}, "no Main-Class"),
                Arguments.of(new String[] {"--isolates", "0", demo}, "--isolates must be between 1 and 1024, not 0"),
                Arguments.of(new String[] {"--isolates", "many", demo}, "--isolates takes a whole number or max"),
                Arguments.of(new String[] {"--standby", "-1", demo}, "--standby must be between 0 and 64, not -1"),
                Arguments.of(new String[] {"--drain-timeout", "soon", demo}, "is not a duration"),
                Arguments.of(new String[] {"--no-such-option", demo}, "Unknown option"),
                Arguments.of(new String[] {"--cron-restart", "0 25 * * *", demo},
                        "--cron-restart: cron expression '0 25 * * *': bad hour '25': must be between 0 and 23"),
                Arguments.of(new String[] {"--cron-restart", "every night", demo},
                        "--cron-restart: cron expression 'every night' needs 5 fields"),
                Arguments.of(new String[] {}, "Missing required parameter"),
                Arguments.of(new String[] {truncated.toString()}, "not a jar file"),
                Arguments.of(new String[] {privateMain.toString()}, "has no main method"),
                Arguments.of(new String[] {instanceMainNoConstructor.toString()}, "no non-private constructor"),
                Arguments.of(new String[] {garbage.toString()}, "cannot load Main-Class odd.Main"),
                Arguments.of(new String[] {"--pid-file", dir.resolve("no-such-folder/forkless.pid").toString(), demo},
                        "--pid-file " + dir.resolve("no-such-folder/forkless.pid") + ": cannot write it (no folder "));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badInput")
    void badInputExitsTwoWithOneLine(String[] args, String message) throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.start(args)) {
            assertEquals(2, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
            assertEquals(1, runtime.lines().size(), "one line: " + runtime.output());
            String line = runtime.lines().getFirst();
            assertTrue(line.startsWith("forkless: ") && line.contains(message), line);
        }
    }

    @Test
    void aHugeArgumentListReachesTheApp() throws Exception {
        String[] args = new String[10_004];
        args[0] = "--isolates";
        args[1] = "1";
        args[2] = "--standby";
        args[3] = "0";
        args[4] = RuntimeProcess.demoJar().toString();
        for (int i = 5; i < args.length; i++) {
            args[i] = "--extra-" + i;
        }
        args[args.length - 4] = "--port";
        args[args.length - 3] = "0";
        args[args.length - 2] = "--host";
        args[args.length - 1] = "127.0.0.1";
        try (RuntimeProcess runtime = RuntimeProcess.start(args)) {
            InetSocketAddress address = runtime.awaitReady();
            assertEquals(200, dev.forkless.runtime.testing.Http.get(address, "/").status());
        }
    }

    @Test
    void portTakenByAnotherProgramExitsTwo() throws Exception {
        try (ServerSocket other = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = other.getLocalPort();
            try (RuntimeProcess runtime = RuntimeProcess.start("--isolates", "2",
                    RuntimeProcess.demoJar().toString(), "--port", String.valueOf(port), "--host", "127.0.0.1")) {
                assertEquals(2, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
                assertEquals(1, runtime.lines().size(), "one line: " + runtime.output());
                assertTrue(runtime.lines().getFirst().matches("forkless: port " + port + " .* already in use.*"),
                        runtime.output());
            }
            // the other program still has its port
            assertTrue(new InetSocketAddress(InetAddress.getLoopbackAddress(), port).getPort() == other.getLocalPort());
        }
    }
}
