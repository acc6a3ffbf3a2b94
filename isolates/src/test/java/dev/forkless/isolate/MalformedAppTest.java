package dev.forkless.isolate;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Malformed apps, generated from a seed: a truncated jar, corrupt class files, odd Main-Class values.
 * Each is refused with a {@link BadAppException} (one line for the user) or runs and ends as a crash or
 * an exit of its copy; nothing else escapes, and the JVM goes on.
 */
class MalformedAppTest {

    private static final long SEED = 20261126L;

    @TempDir
    Path dir;

    @BeforeAll
    static void dispatch() {
        UncaughtExceptionDispatcher.install();
    }

    @Test
    void truncatedJarsAreRefusedInOneLine() throws Exception {
        byte[] jar = Files.readAllBytes(TestApps.jar(dir, "ExitApp"));
        Random random = new Random(SEED);
        for (int i = 0; i < 40; i++) {
            Path truncated = dir.resolve("truncated-" + i + ".jar");
            Files.write(truncated, java.util.Arrays.copyOf(jar, random.nextInt(jar.length)));
            expectRefusedOrEnded(truncated, "truncated at " + Files.size(truncated));
        }
    }

    @Test
    void corruptMainClassesAreRefusedOrCrash() throws Exception {
        byte[] exitApp = classBytes("ExitApp");
        Random random = new Random(SEED);
        for (int i = 0; i < 60; i++) {
            byte[] mutated = exitApp.clone();
            int flips = 1 + random.nextInt(8);
            for (int f = 0; f < flips; f++) {
                mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
            }
            Path jar = jar("corrupt-" + i, "testapps.ExitApp", "testapps/ExitApp.class", mutated);
            expectRefusedOrEnded(jar, "corrupt class " + i);
        }
    }

    @Test
    void oddMainClassValuesAreRefused() throws Exception {
        byte[] exitApp = classBytes("ExitApp");
        for (String mainClass : List.of("", " ", "testapps.Missing", "testapps/ExitApp", "java.lang.String",
                "testapps.ExitApp$", "\u0000", "a".repeat(10_000))) {
            Path jar = jar("main-" + Math.abs(mainClass.hashCode()), mainClass, "testapps/ExitApp.class", exitApp);
            expectRefusedOrEnded(jar, "Main-Class '" + mainClass.substring(0, Math.min(20, mainClass.length())) + "'");
        }
    }

    private void expectRefusedOrEnded(Path jarFile, String what) throws Exception {
        Isolate isolate = null;
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            try {
                isolate = Isolate.builder().id("fuzz").app(AppJar.open(jarFile)).host(host).build();
                isolate.start(List.of("3"));
            } catch (BadAppException refused) {
                assertTrue(!refused.getMessage().isBlank() && refused.getMessage().lines().count() == 1,
                        what + ": one line: " + refused.getMessage());
                return;
            } catch (RuntimeException | Error other) {
                fail(what + ": " + other, other);
            }
            // it started: its copy must end, as an exit (the app) or a crash (a class that failed later)
            try {
                host.exited.applyToEither(host.crashed.thenApply(c -> -1), s -> s).get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                fail(what + ": started but neither exited nor crashed");
            }
        } finally {
            if (isolate != null) {
                isolate.unload(Duration.ofMillis(500));
            }
        }
    }

    private static byte[] classBytes(String name) throws IOException {
        try (InputStream in = MalformedAppTest.class.getResourceAsStream("/testapps/" + name + ".class")) {
            return in.readAllBytes();
        }
    }

    private Path jar(String name, String mainClass, String entry, byte[] bytes) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass.replace("\u0000", "x"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(out, manifest)) {
            jar.putNextEntry(new JarEntry(entry));
            jar.write(bytes);
            jar.closeEntry();
        }
        return Files.write(dir.resolve(name + ".jar"), out.toByteArray());
    }
}
