package dev.forkless.runtime.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code forkless upgrade} refuses before it starts anything, each in one line. */
class UpgradeTargetTest {

    @TempDir
    Path dir;

    /** A jar with a Main-Class of the given class-file version, and the handover class or not. */
    private Path jar(String name, int major, boolean handover) throws IOException {
        Path jar = dir.resolve(name);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "a.Main");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            out.putNextEntry(new JarEntry("a/Main.class"));
            out.write(new byte[] {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe, 0, 0, (byte) (major >> 8), (byte) major});
            out.closeEntry();
            if (handover) {
                out.putNextEntry(new JarEntry(UpgradeTarget.HANDOVER_CLASS));
                out.write(new byte[] {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe});
                out.closeEntry();
            }
        }
        return jar;
    }

    /** A JDK folder with a {@code release} file and an executable {@code bin/java}. */
    private Path jdk(String name, String version) throws IOException {
        Path home = Files.createDirectories(dir.resolve(name).resolve("bin")).getParent();
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        Path java = Files.writeString(home.resolve("bin/java"), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return java;
    }

    private static String refused(Optional<Path> jar, Optional<Path> java) {
        return assertThrows(IllegalArgumentException.class, () -> UpgradeTarget.of(jar, java)).getMessage();
    }

    @Test
    void aRuntimeJarAndAJdkNewEnoughForItAreTaken() throws Exception {
        Path jar = jar("runtime-next.jar", 69, true);
        Path java = jdk("jdk-25", "25.0.3");
        UpgradeTarget target = UpgradeTarget.of(Optional.of(jar), Optional.of(java));
        assertEquals(jar, target.jar());
        assertEquals(java, target.java());
        assertEquals(25, UpgradeTarget.javaNeeded(jar));
        assertEquals(27, UpgradeTarget.javaNeeded(jar("later.jar", 71, true)));
    }

    @Test
    void whatIsNotARuntimeJarOrAJdkLauncherIsRefusedInOneLine() throws Exception {
        Path runtime = jar("runtime-next.jar", 69, true);
        Path java = jdk("jdk-25", "25");
        assertEquals("--runtime " + dir.resolve("missing.jar") + ": no such file",
                refused(Optional.of(dir.resolve("missing.jar")), Optional.of(java)));
        assertEquals("--runtime runtime.jar: give an absolute path", refused(Optional.of(Path.of("runtime.jar")), Optional.of(java)));
        assertTrue(refused(Optional.of(Files.writeString(dir.resolve("notes.jar"), "text")), Optional.of(java))
                .startsWith("--runtime " + dir.resolve("notes.jar") + ": not a jar"));
        assertTrue(refused(Optional.of(jar("app.jar", 69, false)), Optional.of(java))
                .contains("not a Forkless runtime jar that can take over"));
        assertTrue(refused(Optional.of(Files.createDirectories(dir.resolve("folder.jar"))), Optional.of(java))
                .endsWith(": not a file"));

        Path sh = Files.writeString(dir.resolve("sh"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(sh, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertTrue(refused(Optional.of(runtime), Optional.of(sh)).contains("not a java launcher"));
        Path noRelease = Files.createDirectories(dir.resolve("bare/bin")).resolve("java");
        Files.writeString(noRelease, "#!/bin/sh\n");
        Files.setPosixFilePermissions(noRelease, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertTrue(refused(Optional.of(runtime), Optional.of(noRelease)).contains("no " + dir.resolve("bare/release")));
        assertEquals("--java " + jdk("jdk-17", "17.0.15") + " is Java 17; --runtime " + runtime
                        + " needs Java 25 or later",
                refused(Optional.of(runtime), Optional.of(dir.resolve("jdk-17/bin/java"))));
    }

    @Test
    void aFileEveryUserMayChangeIsNotRun() throws Exception {
        Path runtime = jar("runtime-next.jar", 69, true);
        Path java = jdk("jdk-25", "25");
        Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertTrue(refused(Optional.of(runtime), Optional.of(java)).endsWith("writable by every user; refusing to run it"));
        Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertTrue(refused(Optional.of(runtime), Optional.of(java)).endsWith("writable by every user; refusing to run it"));
    }
}
