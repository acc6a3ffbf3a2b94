package dev.forkless.isolate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Netty's native transports are off in every copy, and a failure because of it says why. */
class CopyDefaultsTest {

    @TempDir
    Path dir;

    @Test
    void everyCopySeesNettyNativeTransportsTurnedOff() {
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = Isolate.builder().id("1").app(AppJar.open(TestApps.jar(dir, "EnvApp"))).host(host).build();
            assertEquals("true", isolate.properties().getProperty(CopyDefaults.NETTY_NO_NATIVE));
            assertNull(System.getProperty(CopyDefaults.NETTY_NO_NATIVE), "the JVM's own properties are left alone");
            isolate.unload(java.time.Duration.ofSeconds(1));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void nativeTransportsOnTheClassPathAreFound() throws IOException {
        Path netty = dir.resolve("netty-transport-native-epoll.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(netty))) {
            out.putNextEntry(new JarEntry("io/netty/channel/epoll/Epoll.class"));
            out.closeEntry();
        }
        Path plain = TestApps.jar(dir, "EnvApp");
        assertEquals(List.of("epoll"), CopyDefaults.nativeTransports(List.of(plain, netty)));
        assertEquals(List.of(), CopyDefaults.nativeTransports(List.of(plain)));
    }

    @Test
    void nettysOwnFailureIsExplained() {
        // what Epoll.ensureAvailability() throws under io.netty.transport.noNative=true
        Throwable netty = new UnsatisfiedLinkError("failed to load the required native library").initCause(
                new UnsupportedOperationException("Native transport was explicit disabled with -Dio.netty.transport.noNative=true"));
        String why = CopyDefaults.explain(new IllegalStateException("boot failed", netty));
        assertTrue(why != null && why.contains("Netty native transport") && why.contains("NIO"), why);
        assertNull(CopyDefaults.explain(new IllegalStateException("something else")));
    }
}
