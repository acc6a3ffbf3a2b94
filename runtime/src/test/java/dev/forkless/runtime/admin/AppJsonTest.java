package dev.forkless.runtime.admin;

import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.ForklessEvent;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GET /api/app}'s object: the settings in effect, the counters, and no secret's value. */
class AppJsonTest {

    @TempDir
    Path dir;

    @Test
    void theSettingsInEffectAndNoSecretsValue() throws Exception {
        try (Forkless forkless = Forkless.builder().app("example.Main", List.of(dir)).args(List.of("--port", "8080"))
                .copies(2).standby(0).drainTimeout(Duration.ofSeconds(9)).stopExitCodes(java.util.Set.of(3, 0))
                .maxMemory(256L * 1024 * 1024)
                .environment(Map.of("DB_PASSWORD", "hunter2", "API_TOKEN", "t0k3n", "REGION", "eu")).build()) {
            AppCounters counters = new AppCounters(2);
            counters.accept(new ForklessEvent.Reloaded(Instant.now(), true, 2, "", Duration.ofSeconds(1)));
            counters.accept(new ForklessEvent.Reloaded(Instant.now(), false, 0, "aborted", Duration.ofSeconds(1)));
            counters.accept(new ForklessEvent.Restarting(Instant.now(), "1", 1, Duration.ofMillis(100)));
            counters.accept(new ForklessEvent.Scaled(Instant.now(), 2, 3));
            ObjectMapper json = new ObjectMapper();
            String text = json.writeValueAsString(AppJson.of(forkless, counters, List.of()));
            JsonNode app = json.readTree(text);
            assertFalse(text.contains("hunter2") || text.contains("t0k3n"), text);
            assertEquals(SecretValues.MASK, app.get("env").get("DB_PASSWORD").asText());
            assertEquals(SecretValues.MASK, app.get("env").get("API_TOKEN").asText());
            assertEquals("eu", app.get("env").get("REGION").asText());
            assertEquals(dir.getFileName().toString(), app.get("name").asText(), "named for its first class path entry");
            assertEquals(List.of("--port", "8080"), List.of(app.get("args").get(0).asText(), app.get("args").get(1).asText()));
            assertEquals(3, app.get("copies").asInt(), "after the scale");
            assertEquals(0, app.get("standby").asInt());
            assertEquals(1, app.get("reloads").asInt(), "the reload that ended well");
            assertEquals(1, app.get("restarts").asInt());
            JsonNode settings = app.get("settings");
            assertEquals(9000, settings.get("drainTimeoutMs").asLong());
            assertEquals("[0,3]", settings.get("stopExitCodes").toString());
            assertEquals(256L * 1024 * 1024, settings.get("maxMemoryBytes").asLong());
            assertTrue(settings.get("cronRestart").isNull());
            assertTrue(app.get("logs").isNull());
        }
    }
}
