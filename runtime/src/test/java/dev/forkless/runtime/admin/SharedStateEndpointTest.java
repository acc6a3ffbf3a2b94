package dev.forkless.runtime.admin;

import dev.forkless.runtime.Forkless;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SharedStateEndpointTest {

    @Test
    void putGetListDelete(@TempDir Path dir) throws Exception {
        Path jar = Files.createFile(dir.resolve("app.jar"));
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MAIN_CLASS, "app.Main");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.putNextEntry(new java.util.jar.JarEntry("app/"));
        }
        Forkless forkless = Forkless.builder().app(jar).sharedStateFile(dir.resolve("state")).build(); // not started
        SharedStateEndpoint endpoint = new SharedStateEndpoint(forkless.sharedState());
        assertEquals(204, endpoint.put("greeting", "hello \"world\"\n".getBytes(StandardCharsets.UTF_8)).status());
        assertEquals("hello \"world\"\n", endpoint.get("greeting").body());
        assertEquals("{\"greeting\":\"hello \\\"world\\\"\\n\"}", endpoint.list().body());
        assertEquals(400, endpoint.put("", new byte[0]).status());
        assertEquals(400, endpoint.put("k", new byte[] {(byte) 0xff}).status());
        assertEquals(204, endpoint.delete("greeting").status());
        assertEquals(404, endpoint.get("greeting").status());
        assertEquals(404, endpoint.delete("greeting").status());
    }
}
