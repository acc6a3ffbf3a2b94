package dev.forkless.isolate;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipException;

/**
 * An application jar as the isolate loader sees it: the jar, its {@code Main-Class}, and the jars its
 * manifest's {@code Class-Path} names (resolved against the jar's folder). A fat jar simply has no
 * {@code Class-Path}.
 *
 * @param jar       the application jar
 * @param mainClass the binary name of the class whose {@code main} starts the app
 * @param classPath the application jar first, then each {@code Class-Path} entry that exists
 */
public record AppJar(Path jar, String mainClass, List<Path> classPath) {

    /** The largest manifest read: a real one is a few KiB, its Class-Path included. */
    static final int MAX_MANIFEST_BYTES = 1 << 20;

    public AppJar {
        classPath = List.copyOf(classPath);
    }

    /**
     * Reads and checks an application jar.
     *
     * @param jar the jar
     * @return the app
     * @throws BadAppException naming the problem in one line when the file is missing, not a jar, or has
     *                         no {@code Main-Class}
     */
    public static AppJar open(Path jar) {
        Path file = jar.toAbsolutePath().normalize();
        if (!Files.exists(file)) {
            throw new BadAppException("no such file: " + jar);
        }
        if (!Files.isRegularFile(file)) {
            throw new BadAppException("not a jar file: " + jar + " is a directory");
        }
        Manifest manifest;
        try (JarFile jarFile = new JarFile(file.toFile(), false)) {
            manifest = boundedManifest(jarFile, jar);
        } catch (ZipException e) {
            throw new BadAppException("not a jar file: " + jar);
        } catch (IOException | SecurityException e) {
            throw new BadAppException("cannot read " + jar + ": " + e.getMessage());
        }
        String mainClass = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.MAIN_CLASS);
        if (mainClass == null || mainClass.isBlank()) {
            throw new BadAppException("no Main-Class in the manifest of " + jar);
        }
        List<Path> classPath = new ArrayList<>();
        classPath.add(file);
        String entries = manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
        if (entries != null) {
            for (String entry : entries.trim().split("\\s+")) {
                if (!entry.isEmpty()) {
                    Path resolved = resolve(file.getParent(), entry);
                    if (resolved != null && Files.isRegularFile(resolved)) {
                        classPath.add(resolved);
                    }
                }
            }
        }
        return new AppJar(file, mainClass.trim(), classPath);
    }

    /**
     * The jar's manifest, read with a bound: {@link JarFile#getManifest} inflates the whole entry, so a
     * manifest crafted to inflate to gigabytes would take the runtime's memory. A real one is a few KiB.
     */
    private static Manifest boundedManifest(JarFile jarFile, Path jar) throws IOException {
        java.util.zip.ZipEntry entry = jarFile.getEntry(JarFile.MANIFEST_NAME);
        if (entry == null) {
            return null;
        }
        byte[] bytes;
        try (java.io.InputStream in = jarFile.getInputStream(entry)) {
            bytes = in.readNBytes(MAX_MANIFEST_BYTES + 1);
        }
        if (bytes.length > MAX_MANIFEST_BYTES) {
            throw new BadAppException("the manifest of " + jar + " is larger than " + MAX_MANIFEST_BYTES / 1024
                    + " KiB: not an app's manifest");
        }
        return new Manifest(new java.io.ByteArrayInputStream(bytes));
    }

    /**
     * An app whose classes are already on a class path of the embedding program: each copy still gets
     * its own child-first loader over these entries.
     *
     * @param mainClass the main class
     * @param classPath jars or folders
     * @return the app
     */
    public static AppJar ofClassPath(String mainClass, List<Path> classPath) {
        if (classPath.isEmpty()) {
            throw new BadAppException("empty class path for " + mainClass);
        }
        return new AppJar(classPath.getFirst(), mainClass, classPath);
    }

    /** @return the app's name for logs: the jar's file name without {@code .jar} */
    public String name() {
        String name = jar.getFileName().toString();
        return name.endsWith(".jar") ? name.substring(0, name.length() - 4) : name;
    }

    private static Path resolve(Path base, String entry) {
        // Class-Path entries are relative URLs.
        try {
            URI uri = new URI(null, null, entry, null);
            if (uri.isAbsolute()) {
                return Path.of(new URI(entry));
            }
            return base.resolve(entry).normalize();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
    }
}
