package dev.forkless.runtime;

import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A new copy that is slow to start is waited for, not given up on: the reload goes through. */
class ReadinessIT {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"isolate", "process"})
    void aReloadWhoseNewCopyStartsSlowerThanTheReadyTimeoutWaitsForItAndFailsNoRequest(String mode) throws Exception {
        Path slow = dir.resolve("slow-ms");
        Path jar = slowDemo(dir.resolve("app.jar"));
        // new copies wait 8 s before they even start the demo: past the 6 s ready timeout, well inside its
        // 60 s limit, however busy the machine (a child JVM's own start took 10-20 s beside two builds)
        try (RuntimeProcess runtime = RuntimeProcess.start("--mode", mode, "--isolates", "1", "--standby", "0",
                "--ready-timeout", "6s", "--admin", "off", jar.toString(), "--slow-file", slow.toString(),
                "--port", "0", "--host", "127.0.0.1")) {
            InetSocketAddress address = runtime.awaitReady();
            Files.writeString(slow, "8000");
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 8, Duration.ofSeconds(14));
            // progress, not a rate: a busy machine serves a cold runtime slowly (CI saw fewer than 500 answers in 3 s)
            await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > 50);
            assertEquals(0, new ProcessBuilder("kill", "-HUP", String.valueOf(runtime.pid())).start().waitFor());

            String slowStart = runtime.awaitLine(l -> l.contains("event=slow-start"), Duration.ofSeconds(30));
            assertTrue(slowStart.contains("waitedMs=6000 limitMs=60000"), slowStart);
            assertFalse(runtime.hasLine(l -> l.contains("event=reloaded")), "the reload still waits: " + runtime.output());
            String reloaded = runtime.awaitLine(l -> l.contains("event=reloaded"), Duration.ofSeconds(120));
            load.await();
            assertTrue(reloaded.contains("ok=true replaced=1"), runtime.output());
            assertEquals(0, load.failed(), load.summary());
        }
    }

    /** The demo's fat jar with {@code testapps.SlowStartApp} added as its main class. */
    private static Path slowDemo(Path jar) throws IOException {
        Path classes;
        try {
            classes = Path.of(testapps.SlowStartApp.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        try (JarFile demo = new JarFile(RuntimeProcess.artifact("forkless.demo.fatjar").toFile())) {
            Manifest manifest = new Manifest(demo.getManifest());
            manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, testapps.SlowStartApp.class.getName());
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
                for (JarEntry entry : Collections.list(demo.entries())) {
                    String name = entry.getName();
                    if (name.equalsIgnoreCase(JarFile.MANIFEST_NAME) || name.equalsIgnoreCase("META-INF/")
                            || name.matches("(?i)META-INF/[^/]+\\.(SF|RSA|DSA|EC)")) {
                        continue;
                    }
                    out.putNextEntry(new JarEntry(name));
                    try (InputStream in = demo.getInputStream(entry)) {
                        in.transferTo(out);
                    }
                    out.closeEntry();
                }
                String name = testapps.SlowStartApp.class.getName().replace('.', '/') + ".class";
                out.putNextEntry(new JarEntry(name));
                out.write(Files.readAllBytes(classes.resolve(name)));
                out.closeEntry();
            }
        }
        return jar;
    }
}
