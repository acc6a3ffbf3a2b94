package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The demo through the real runtime.jar: GET /shared/{key} and POST /broadcast, both modes. */
class DemoMessagesIT {

    @ParameterizedTest
    @ValueSource(strings = {"isolate", "process"})
    void sharedValuesAndBroadcasts(String mode, @TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Files.writeString(state, "put greeting hello+there\n");
        try (RuntimeProcess runtime = RuntimeProcess.demo("--mode", mode, "--isolates", "2", "--standby", "0",
                "--shared-state", state.toString())) {
            InetSocketAddress address = runtime.awaitReady();
            for (int i = 0; i < 4; i++) {
                Http.Response value = Http.get(address, "/shared/greeting");
                assertEquals(200, value.status());
                assertEquals("hello there", value.body());
            }
            assertEquals(404, Http.get(address, "/shared/nothing").status());
            assertEquals(202, Http.request(address, "POST", "/broadcast", "to everyone").status());
            runtime.awaitLine(l -> l.equals("[w1] broadcast received: to everyone"), Duration.ofSeconds(60));
            runtime.awaitLine(l -> l.equals("[w2] broadcast received: to everyone"), Duration.ofSeconds(60));
        }
    }
}
