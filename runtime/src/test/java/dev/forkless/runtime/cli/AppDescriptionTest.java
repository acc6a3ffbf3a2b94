package dev.forkless.runtime.cli;

import dev.forkless.runtime.admin.SecretValues;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code forkless describe}'s sections: the app, its settings, its environment with secrets masked, its copies. */
class AppDescriptionTest {

    private static JsonNode app(String env) throws Exception {
        return new ObjectMapper().readTree("""
                {"name":"shop","jar":"/srv/shop.jar","args":["--port","8080"],"mode":"isolate","copies":2,"standby":1,
                 "addresses":["0.0.0.0:8080"],"pid":4242,"uptimeMs":125000,"reloads":3,"restarts":1,"logs":"/var/log/shop",
                 "settings":{"drainTimeoutMs":5000,"readyTimeoutMs":60000,"hangTimeoutMs":0,"autorestart":false,
                   "restartBackoff":"fixed","restartDelayMs":1500,"maxRestartDelayMs":15000,"minUptimeMs":1000,
                   "maxRestarts":16,"stopExitCodes":[0,3],"cronRestart":"0 3 * * *","maxMemoryBytes":536870912,
                   "watch":false,"metering":true},
                 "env":%s,
                 "workers":[{"id":"7","slot":"2","instance":1,"mode":"process","pid":4300,"state":"ready",
                   "uptimeMs":61000,"restarts":2,"requests":99,"activeConnections":4,"cpuMs":2500,
                   "memoryBytes":104857600,"cpuShare":null,"cpuCores":null,"allocatedBytesPerSecond":null,
                   "keptHeapBytes":null,"lastExit":"exited with status 3"}]}""".formatted(env));
    }

    @Test
    void showsTheAppItsSettingsAndEachCopy() throws Exception {
        List<String> lines = AppDescription.render(app("{}"), "http://127.0.0.1:9615");
        String text = String.join("\n", lines);
        assertEquals("shop (runtime pid 4242, up 2m 5s)", lines.getFirst());
        for (String expected : List.of("jar        /srv/shop.jar", "args       --port 8080",
                "copies     2 serving, 1 standby", "listening  0.0.0.0:8080", "admin      http://127.0.0.1:9615",
                "logs       /var/log/shop", "reloads    3", "restarts   1",
                "drain timeout     5s", "ready timeout     1m", "hang timeout      off", "autorestart       off",
                "restart back-off  fixed, 1.5s", "stop exit codes   0 3", "cron restart      0 3 * * *",
                "max memory        512.0 MiB", "(none besides the runtime's own)",
                "copy 7: slot 2, instance 1, ready", "pid          4300", "restarts     2 (of its slot)",
                "requests     99", "connections  4", "cpu          2.5s", "memory       100.0 MiB rss",
                "last exit    exited with status 3")) {
            assertTrue(text.contains(expected), expected + " in:\n" + text);
        }
    }

    @Test
    void theValuesOfSecretsAreMaskedEvenWhenTheRuntimeSentThem() throws Exception {
        List<String> lines = AppDescription.render(app("""
                {"DB_PASSWORD":"hunter2","API_TOKEN":"t0k3n","aws_secret_access_key":"AKIA","SIGNING_KEY":"k",
                 "REGION":"eu-west-1","PORT":"8080"}"""), "http://127.0.0.1:9615");
        String text = String.join("\n", lines);
        for (String secret : List.of("hunter2", "t0k3n", "AKIA")) {
            assertFalse(text.contains(secret), secret + " shown in:\n" + text);
        }
        for (String secret : List.of("DB_PASSWORD", "API_TOKEN", "SIGNING_KEY", "aws_secret_access_key")) {
            assertTrue(lines.stream().anyMatch(l -> l.matches("  " + secret + " +\\*\\*\\*\\*")), secret + " in:\n" + text);
        }
        assertTrue(lines.stream().anyMatch(l -> l.matches("  REGION +eu-west-1")), text);
        assertTrue(lines.stream().anyMatch(l -> l.matches("  PORT +8080")), text);
    }

    @Test
    void secretNamesAreToldByTheirWords() {
        for (String name : List.of("TOKEN", "github_token", "DB_PASSWORD", "CLIENT_SECRET", "API_KEY", "PASSWD")) {
            assertTrue(SecretValues.secret(name), name);
            assertEquals(SecretValues.MASK, SecretValues.shown(name, "value"));
        }
        for (String name : List.of("PORT", "REGION", "JAVA_OPTS", "LOG_LEVEL")) {
            assertFalse(SecretValues.secret(name), name);
            assertEquals("value", SecretValues.shown(name, "value"));
        }
    }

    @Test
    void anEscapeSequenceFromTheRuntimeDoesNotReachTheTerminal() throws Exception {
        JsonNode app = app("{\"GREETING\":\"\\u001b[2Jhi\"}");
        String text = String.join("\n", AppDescription.render(app, "http://127.0.0.1:9615"));
        assertFalse(text.contains("\u001b"), text);
    }

    @Test
    void durationsReadAsTheOptionsAreWritten() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertEquals("250ms", AppDescription.millis(json.readTree("250")));
        assertEquals("5s", AppDescription.millis(json.readTree("5000")));
        assertEquals("1.5s", AppDescription.millis(json.readTree("1500")));
        assertEquals("2m", AppDescription.millis(json.readTree("120000")));
    }
}
