package dev.forkless.runtime.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code start APP} (an app of a running runtime) is told from {@code start APP.jar} (a runtime to start). */
class StartAppTest {

    @TempDir
    Path dir;

    @Test
    void oneWordThatIsAnAppsNameAndNoFileIsAnAppOfARunningRuntime() {
        assertTrue(StartApp.names(List.of("web")));
        assertTrue(StartApp.names(List.of("web", "--admin", "127.0.0.1:9615")));
        assertTrue(StartApp.names(List.of("--admin=127.0.0.1:9615", "api", "--timeout", "30s", "--token-file", "t")));
    }

    @Test
    void aJarAFileAConfigOrARuntimeOptionIsARuntimeToStart() throws Exception {
        assertFalse(StartApp.names(List.of()));
        assertFalse(StartApp.names(List.of("shop.jar")));
        assertFalse(StartApp.names(List.of("web", "--port", "8080")), "an app's arguments");
        assertFalse(StartApp.names(List.of("--config", "ecosystem.yaml")));
        assertFalse(StartApp.names(List.of("--isolates", "2", "web")));
        assertFalse(StartApp.names(List.of("--admin", "127.0.0.1:9700", "shop.jar")));
        assertFalse(StartApp.names(List.of("../shop")));
        Path file = Files.createFile(dir.resolve("app"));
        assertFalse(StartApp.names(List.of(file.toString())), "a path has a '/'");
    }
}
