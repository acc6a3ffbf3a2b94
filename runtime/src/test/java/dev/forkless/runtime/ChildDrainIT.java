package dev.forkless.runtime;

import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM drained just after its app took connections serves them before it is unloaded: the runtime
 * waits for the child's own count after the drain began, not the stats it sampled before (issue 15 item 5,
 * the connection EscalateIT lost at the handover).
 */
class ChildDrainIT {

    private static final int CLIENTS = 6;
    /** Drains; without the fix about one in three closed a connection (2 runs of 3 rounds, busy machine). */
    private static final int ROUNDS = 5;

    @Test
    void aChildDrainedJustAfterItsAppTookConnectionsAnswersThemAndClosesNone() throws Exception {
        List<ForklessEvent> events = new CopyOnWriteArrayList<>();
        try (Forkless forkless = Forkless.builder()
                .mode(Mode.PROCESS)
                .app(RuntimeProcess.demoJar())
                .args(List.of("--port", "0", "--host", "127.0.0.1"))
                .copies(2)
                .standby(0)
                .drainTimeout(Duration.ofSeconds(20))
                .readyTimeout(Duration.ofSeconds(60))
                .listener(events::add)
                .build()
                .start()) {
            InetSocketAddress address = forkless.addresses().getFirst();
            List<String> answers = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                if (round > 0) {
                    OperationResult up = forkless.scale(2).get();
                    assertTrue(up.ok(), up.toString());
                }
                // requests the copies take at once and answer only 300 ms later; the newest copy drains a few
                // milliseconds after it took its share, before its stats (sent every 50 ms) said so
                List<Socket> clients = new ArrayList<>();
                try {
                    for (int i = 0; i < CLIENTS; i++) {
                        clients.add(send(address, "/work?ms=300"));
                    }
                    await().pollDelay(Duration.ofMillis(15)).until(() -> true); // the window is the point
                    OperationResult down = forkless.scale(1).get();
                    assertTrue(down.ok(), down.toString());
                    for (Socket client : clients) {
                        answers.add(statusLine(client));
                    }
                } finally {
                    for (Socket client : clients) {
                        client.close();
                    }
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> forkless.workers().stream()
                        .noneMatch(w -> w.state() == WorkerState.DRAINING));
            }
            List<ForklessEvent.Drained> drained = events.stream().filter(ForklessEvent.Drained.class::isInstance)
                    .map(ForklessEvent.Drained.class::cast).toList();
            assertEquals(ROUNDS, drained.size(), events.toString());
            assertEquals(java.util.Collections.nCopies(ROUNDS, 0), drained.stream().map(ForklessEvent.Drained::forcedConnections).toList(),
                    "no drained child closed a connection its app had taken: " + drained);
            assertEquals(ROUNDS * CLIENTS, answers.stream().filter(a -> a.startsWith("HTTP/1.1 200")).count(),
                    "every request answered, by the drained copy or the other: " + answers);
        }
    }

    private static Socket send(InetSocketAddress address, String path) throws IOException {
        Socket socket = new Socket();
        socket.connect(address, 5_000);
        socket.setSoTimeout(30_000);
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    /** @return the response's status line, or what went wrong */
    private static String statusLine(Socket socket) {
        try {
            InputStream in = socket.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) != -1 && c != '\n'; ) {
                line.append((char) c);
            }
            return line.isEmpty() ? "closed before a response" : line.toString().strip();
        } catch (IOException e) {
            return e.toString();
        }
    }
}
