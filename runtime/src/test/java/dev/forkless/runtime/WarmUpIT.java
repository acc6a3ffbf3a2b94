package dev.forkless.runtime;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A standby warms itself up: once ready it answers requests of its own ({@code GET /} on private
 * connections), so that a crash promotes a copy whose request path has run, while every client
 * connection still goes to the serving copy; promoted, it answers the clients.
 */
class WarmUpIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"isolate", "process"})
    void aStandbyServesItselfUntilItIsPromotedAndTheClientsNeverReachIt(String mode) throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--mode", mode, "--isolates", "1", "--standby", "1",
                "--ready-timeout", "30s")) {
            InetSocketAddress address = runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            String standby = runtime.awaitLine(l -> l.contains(" event=ready") && isStandby(runtime, l),
                    Duration.ofSeconds(60)).replaceAll(".*(?:isolate|process)=(\\S+) event=ready.*", "$1");

            // its own requests: counted as the copy's, as any request it serves
            await().atMost(Duration.ofSeconds(30)).until(() -> requests(admin, standby) > 0);
            Set<String> answering = new HashSet<>();
            for (int i = 0; i < 20; i++) {
                answering.add(JSON.readTree(Http.get(address, "/whoami").body()).get("isolate").asText());
            }
            assertEquals(Set.of("1"), answering, "fresh client connections go to the serving copy only");

            assertEquals(202, Http.get(address, "/crash").status());
            runtime.awaitLine(l -> l.contains("=" + standby + " event=promoted slot=1"), Duration.ofSeconds(30));
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    JSON.readTree(Http.get(address, "/whoami").body()).get("isolate").asText().equals(standby));
        }
    }

    private static boolean isStandby(RuntimeProcess runtime, String readyLine) {
        String id = readyLine.replaceAll(".*(?:isolate|process)=(\\S+) event=ready.*", "$1");
        return runtime.hasLine(l -> l.matches(".*(?:isolate|process)=" + id + " event=started slot=s1 standby=true.*"));
    }

    private static long requests(Admin admin, String id) throws Exception {
        for (JsonNode worker : JSON.readTree(admin.get("/api/workers").body())) {
            if (worker.get("id").asText().equals(id)) {
                return worker.get("requests").asLong();
            }
        }
        return 0;
    }
}
