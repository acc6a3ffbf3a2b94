package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A long-lived response (server-sent events) is not a hang; a handler that never answers still is. */
class LongRequestsIT {

    @Test
    void aStreamLongerThanTheHangTimeoutIsNotAHangButABusyLoopIs() throws Exception {
        int seconds = 12;
        // a hang timeout a busy machine's copies meet (2 s took a slow one for hung), the stream over twice it
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--hang-timeout", "5s",
                "--drain-timeout", "3s")) {
            InetSocketAddress address = runtime.awaitReady();
            List<String> events = new ArrayList<>();
            try (Socket socket = new Socket()) {
                socket.connect(address, 5_000);
                socket.setSoTimeout(30_000); // generous: a busy machine delays a copy's first bytes
                OutputStream out = socket.getOutputStream();
                out.write(("GET /sse?seconds=" + seconds + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.startsWith("data: ")) {
                        events.add(line);
                    }
                    if (line.equals("data: done")) {
                        break; // the end of the stream (the connection may stay open: it is keep-alive)
                    }
                }
            }
            assertEquals(seconds + 1, events.size(), "every event and the end of the stream arrived: " + events);
            assertEquals("data: done", events.getLast());
            assertFalse(runtime.hasLine(l -> l.contains("event=hung")),
                    "a stream over twice the hang timeout is not a hang:\n" + runtime.output());
            assertTrue(events.stream().limit(seconds).map(e -> e.replaceAll(".* from ", "")).distinct().count() == 1,
                    "one copy served the whole stream: " + events);

            // a handler that never starts its response is still a hang
            try (Socket hanging = Http.fire(address, "/hang")) {
                String hung = runtime.awaitLine(l -> l.contains("event=hung"), Duration.ofSeconds(60));
                assertTrue(hung.contains("without starting its response"), hung);
            }
            assertEquals(200, Http.get(address, "/").status(), "the service keeps answering");
        }
    }
}
