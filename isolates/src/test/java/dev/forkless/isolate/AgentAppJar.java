package dev.forkless.isolate;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/** Jars of test classes: {@code testapps.AgentApp} and its helpers, or a plugin. */
final class AgentAppJar {

    private AgentAppJar() {
    }

    /** The jar of {@code testapps.AgentApp}. */
    static Path write(Path jar) throws IOException {
        return jar(jar, "testapps.AgentApp", "testapps/AgentApp", "testapps/proto/forkless/Handler");
    }

    /** A jar of the named test classes and their nested classes. */
    static Path jar(Path jar, String mainClass, String... classes) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (mainClass != null) {
            manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
        }
        Path root;
        try {
            root = Path.of(AgentAppJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (String name : classes) {
                Path file = root.resolve(name + ".class");
                String simple = file.getFileName().toString().replace(".class", "");
                try (Stream<Path> siblings = Files.list(file.getParent())) {
                    for (Path c : siblings.filter(p -> p.getFileName().toString().equals(simple + ".class")
                            || p.getFileName().toString().startsWith(simple + "$")).toList()) {
                        out.putNextEntry(new JarEntry(root.relativize(c).toString().replace('\\', '/')));
                        try (InputStream in = Files.newInputStream(c)) {
                            in.transferTo(out);
                        }
                        out.closeEntry();
                    }
                }
            }
        }
        return jar;
    }
}
