package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime owns accept and hands connections out round-robin: keep-alive connections opened all at
 * once spread evenly over the copies, whichever copy's acceptor is quicker (with views competing in
 * accept, one copy could take most of a burst).
 */
class BalancedConnectionsIT {

    private static final Pattern ISOLATE = Pattern.compile("\"isolate\":\"(\\d+)\"");
    private static final int CONNECTIONS = 64;

    @Test
    void sixtyFourKeepAliveConnectionsOpenedAtOnceSplitEvenlyOverTwoCopies() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2")) {
            InetSocketAddress address = runtime.awaitReady();
            List<Http> clients = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Callable<String>> opens = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    Http http = new Http(address);
                    clients.add(http);
                    opens.add(() -> whoami(http));
                }
                Map<String, Integer> perCopy = new HashMap<>();
                for (Future<String> answer : pool.invokeAll(opens)) {
                    perCopy.merge(answer.get(), 1, Integer::sum);
                }
                // each connection stays with the copy that accepted it: ask again on every one
                for (Http http : clients) {
                    String again = whoami(http);
                    assertTrue(perCopy.containsKey(again), "a keep-alive connection stays with its copy");
                }
                System.out.println("BalancedConnectionsIT: connections per copy " + perCopy);
                assertEquals(2, perCopy.size(), "both copies hold connections: " + perCopy);
                for (Map.Entry<String, Integer> copy : perCopy.entrySet()) {
                    int held = copy.getValue();
                    assertTrue(Math.abs(held - CONNECTIONS / 2) <= 6,
                            "copy " + copy.getKey() + " holds " + held + " of " + CONNECTIONS + " connections: " + perCopy);
                }
            } finally {
                clients.forEach(Http::close);
            }
        }
    }

    private static String whoami(Http http) throws java.io.IOException {
        Http.Response response = http.send("/whoami", false);
        assertEquals(200, response.status());
        Matcher m = ISOLATE.matcher(response.body());
        assertTrue(m.find(), response.body());
        return m.group(1);
    }
}
