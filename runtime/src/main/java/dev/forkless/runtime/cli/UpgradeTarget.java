package dev.forkless.runtime.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;

/**
 * What {@code forkless upgrade} starts: a runtime jar and the {@code java} launcher that runs it, both
 * checked before anything starts, so that a typo costs one line and the running runtime nothing: the jar
 * must be a Forkless runtime jar (it has the handover), the launcher a JDK's {@code bin/java} (its
 * {@code release} file gives its version), new enough for the jar's classes; neither may be writable by
 * every user.
 *
 * @param jar  the runtime jar, absolute
 * @param java the launcher, absolute
 */
record UpgradeTarget(Path jar, Path java) {

    /** A class every runtime jar that can take over has: the handover's other side. */
    static final String HANDOVER_CLASS = "dev/forkless/runtime/listen/Handover.class";

    private static final Pattern JAVA_VERSION = Pattern.compile("(?m)^JAVA_VERSION=\"([^\"]+)\"");

    /**
     * Checks the jar and launcher given (or this runtime's own ones).
     *
     * @param jar  the runtime jar; empty: the one this runtime runs
     * @param java the launcher; empty: the one this runtime runs on
     * @return the target
     * @throws IllegalArgumentException naming what is wrong, in one line
     */
    static UpgradeTarget of(Optional<Path> jar, Optional<Path> java) {
        Path runtimeJar = jar.isPresent() ? checkedJar(jar.get()) : currentJar();
        int needs = javaNeeded(runtimeJar);
        Path launcher;
        int has;
        if (java.isPresent()) {
            launcher = checkedLauncher(java.get());
            has = javaFeature(java.get(), launcher);
        } else {
            launcher = currentJava();
            has = Runtime.version().feature();
        }
        if (has < needs) {
            throw new IllegalArgumentException((java.isPresent() ? "--java " + java.get() : "this runtime's java")
                    + " is Java " + has + "; " + (jar.isPresent() ? "--runtime " + jar.get() : "the runtime jar")
                    + " needs Java " + needs + " or later");
        }
        return new UpgradeTarget(runtimeJar, launcher);
    }

    /** @return the jar this runtime was started from ({@code java -jar}) */
    static Path currentJar() {
        String classPath = System.getProperty("java.class.path", "");
        if (classPath.isEmpty() || classPath.contains(File.pathSeparator) || !classPath.endsWith(".jar")) {
            throw new IllegalArgumentException("this runtime was not started with java -jar RUNTIME.jar: name the "
                    + "runtime jar to start (--runtime JAR)");
        }
        return Path.of(classPath).toAbsolutePath().normalize();
    }

    /** @return the launcher of this JVM */
    static Path currentJava() {
        return ProcessHandle.current().info().command().map(Path::of)
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java"));
    }

    private static Path checkedJar(Path jar) {
        String shown = "--runtime " + jar;
        Path real = real(shown, jar);
        if (!jar.getFileName().toString().endsWith(".jar") && !real.getFileName().toString().endsWith(".jar")) {
            throw new IllegalArgumentException(shown + ": not a jar (its name does not end in .jar)");
        }
        notWritableByAll(shown, real);
        return jar.toAbsolutePath().normalize();
    }

    private static Path checkedLauncher(Path java) {
        String shown = "--java " + java;
        Path real = real(shown, java);
        if (!Files.isExecutable(real)) {
            throw new IllegalArgumentException(shown + ": not executable");
        }
        if (!real.getFileName().toString().equals("java") || real.getParent() == null
                || !real.getParent().getFileName().toString().equals("bin")) {
            throw new IllegalArgumentException(shown + ": not a java launcher (a JDK's bin/java; this is " + real + ")");
        }
        notWritableByAll(shown, real);
        return java.toAbsolutePath().normalize();
    }

    private static Path real(String shown, Path path) {
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException(shown + ": give an absolute path");
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(shown + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException(shown + ": " + dev.forkless.runtime.IoReason.of(e));
        }
        if (!Files.isRegularFile(real)) {
            throw new IllegalArgumentException(shown + ": not a file");
        }
        if (!Files.isReadable(real)) {
            throw new IllegalArgumentException(shown + ": not readable by this runtime's user");
        }
        return real;
    }

    /** A file any user may change is refused: whoever changed it would run code as this runtime's user. */
    private static void notWritableByAll(String shown, Path real) {
        try {
            if (Files.getPosixFilePermissions(real).contains(PosixFilePermission.OTHERS_WRITE)) {
                throw new IllegalArgumentException(shown + ": writable by every user; refusing to run it");
            }
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: its own rules apply
        }
    }

    /**
     * The Java version a runtime jar's classes need: its main class's class-file version.
     *
     * @throws IllegalArgumentException when it is no runtime jar
     */
    static int javaNeeded(Path jar) {
        String shown = "--runtime " + jar;
        try (JarFile file = new JarFile(jar.toFile())) {
            String main = file.getManifest() == null ? null : file.getManifest().getMainAttributes().getValue("Main-Class");
            if (main == null) {
                throw new IllegalArgumentException(shown + ": not a runnable jar (no Main-Class in its manifest)");
            }
            if (file.getEntry(HANDOVER_CLASS) == null) {
                throw new IllegalArgumentException(shown + ": not a Forkless runtime jar that can take over (no "
                        + HANDOVER_CLASS + ")");
            }
            ZipEntry entry = file.getEntry(main.trim().replace('.', '/') + ".class");
            if (entry == null) {
                throw new IllegalArgumentException(shown + ": its Main-Class " + main.trim() + " is not in it");
            }
            try (InputStream in = file.getInputStream(entry)) {
                byte[] head = in.readNBytes(8);
                if (head.length < 8 || (head[0] & 0xff) != 0xca || (head[1] & 0xff) != 0xfe
                        || (head[2] & 0xff) != 0xba || (head[3] & 0xff) != 0xbe) {
                    throw new IllegalArgumentException(shown + ": its Main-Class is not a class file");
                }
                int major = ((head[6] & 0xff) << 8) | (head[7] & 0xff);
                return major - 44; // class-file 69 is Java 25
            }
        } catch (ZipException e) {
            throw new IllegalArgumentException(shown + ": not a jar (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new IllegalArgumentException(shown + ": cannot read it (" + dev.forkless.runtime.IoReason.of(e) + ")");
        }
    }

    /** The Java version of a launcher, from its JDK's {@code release} file (nothing is run). */
    private static int javaFeature(Path given, Path launcher) {
        String shown = "--java " + given;
        Path home = launcher.toAbsolutePath().normalize();
        try {
            home = home.toRealPath().getParent().getParent();
        } catch (IOException | NullPointerException e) {
            throw new IllegalArgumentException(shown + ": not a java launcher");
        }
        Path release = home.resolve("release");
        String text;
        try {
            text = Files.readString(release, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(shown + ": not a JDK's java launcher (no " + release + ")");
        }
        Matcher m = JAVA_VERSION.matcher(text);
        if (!m.find()) {
            throw new IllegalArgumentException(shown + ": " + release + " has no JAVA_VERSION");
        }
        try {
            return Runtime.Version.parse(m.group(1)).feature();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(shown + ": " + release + " has JAVA_VERSION \"" + m.group(1) + "\"");
        }
    }
}
