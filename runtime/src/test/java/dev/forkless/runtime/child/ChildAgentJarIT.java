package dev.forkless.runtime.child;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.ClassEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The child agent jar ({@code target/forkless-child.jar}) holds only what a child JVM needs, picked by the
 * shade plugin's include list; a class of ours that one of its classes refers to but the list forgot
 * fails in the child at run time only, when the code path first runs (a standby's warm-up crashed every
 * standby so, and a crash then waited for a cold start). Every {@code dev/forkless} class its classes
 * name must be in it.
 */
class ChildAgentJarIT {

    /** Named but never reached in a child, and why. */
    private static final java.util.Map<String, String> NOT_NEEDED = java.util.Map.of(
            "dev/forkless/child/listener/Isolate", "IsolateServerSocket's constructors that take the caller's class "
                    + "(isolate mode's rewriting); the child's rewriting calls those that take a SelectorProvider");

    @Test
    void everyClassOfOursThatTheChildAgentNamesIsInItsJar() throws IOException {
        Path jar = Path.of("target", "forkless-child.jar");
        assertTrue(Files.isRegularFile(jar), jar + " is built by the package phase");
        Set<String> present = new TreeSet<>();
        List<byte[]> classes = new ArrayList<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            for (JarEntry entry : java.util.Collections.list(file.entries())) {
                if (entry.getName().endsWith(".class") && !entry.getName().startsWith("META-INF/")) {
                    present.add(entry.getName().substring(0, entry.getName().length() - ".class".length()));
                    classes.add(file.getInputStream(entry).readAllBytes());
                }
            }
        }
        assertTrue(present.size() > 10, "the jar holds the agent's classes: " + present);
        Set<String> missing = new TreeSet<>();
        for (byte[] bytes : classes) {
            var model = ClassFile.of().parse(bytes);
            for (var constant : model.constantPool()) {
                if (constant instanceof ClassEntry entry) {
                    String name = entry.asInternalName();
                    while (name.startsWith("[")) {
                        name = name.substring(1);
                    }
                    if (name.startsWith("L") && name.endsWith(";")) {
                        name = name.substring(1, name.length() - 1);
                    }
                    if (name.startsWith("dev/forkless/") && !present.contains(name) && !NOT_NEEDED.containsKey(name)) {
                        missing.add(name + " (named by " + model.thisClass().asInternalName() + ")");
                    }
                }
            }
        }
        assertEquals(Set.of(), missing, "add them to the child-agent-jar includes in runtime/pom.xml");
    }
}
