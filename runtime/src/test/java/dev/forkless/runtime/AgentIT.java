package dev.forkless.runtime;

import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code java -jar runtime.jar}, with no flag, starts the agent from its own manifest: an exit through
 * reflection ends only the copy, the selector provider is set before anything used NIO, and the copy's
 * system class loader is its own. (The isolates module's AgentIT covers each path in detail.)
 */
class AgentIT {

    @TempDir
    Path dir;

    @Test
    void underJavaJarAnExitByReflectionEndsOnlyTheCopy() throws Exception {
        Path app = appJar(dir.resolve("reflect-exit.jar"));
        try (RuntimeProcess runtime = RuntimeProcess.start("--isolates", "2", "--standby", "0", "--admin", "off",
                app.toString())) {
            String seen = runtime.awaitLine(l -> l.contains("provider="), Duration.ofSeconds(60));
            assertTrue(seen.contains("provider=dev.forkless.isolate.ForklessSelectorProvider"), seen);
            assertTrue(seen.contains("systemLoaderIsMine=true"), seen);
            // each copy exits at once and is replaced: the JVM outlives its copies' exits
            await().atMost(Duration.ofSeconds(60)).until(() -> runtime.count(l -> l.contains("provider=")) >= 4
                    || !runtime.process().isAlive());
            assertTrue(runtime.process().isAlive(), "the JVM did not exit with its copies:\n" + runtime.output());
            // the events of copies that never served are held until the runtime stops
            runtime.terminate();
            runtime.awaitExit(Duration.ofSeconds(30));
            assertTrue(runtime.hasLine(l -> l.contains("isolate=1 event=exited status=3")), runtime.output());
            assertTrue(runtime.hasLine(l -> l.contains("isolate=2 event=exited status=3")), runtime.output());
            assertFalse(runtime.hasLine(l -> l.contains("exit returned")), "Runtime.exit never returns to the app");
        }
    }

    private static Path appJar(Path jar) throws IOException, URISyntaxException {
        Path classes = Path.of(AgentIT.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "agentapps.ReflectExitApp");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest);
             InputStream in = Files.newInputStream(classes.resolve("agentapps/ReflectExitApp.class"))) {
            out.putNextEntry(new JarEntry("agentapps/ReflectExitApp.class"));
            in.transferTo(out);
            out.closeEntry();
        }
        return jar;
    }
}
