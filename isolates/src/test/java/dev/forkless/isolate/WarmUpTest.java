package dev.forkless.isolate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A standby's warm-up with real sockets: its app answers requests of the copy's own, handed to its view
 * as if accepted, while every connection of the shared socket still goes to the serving copy.
 */
class WarmUpTest {

    private ServerSocketChannel socket;
    private AcceptDispatcher dispatcher;
    private ListenerView serving;
    private ListenerView standby;
    private final List<String> servingSaw = new CopyOnWriteArrayList<>();
    private final List<String> standbySaw = new CopyOnWriteArrayList<>();

    @BeforeEach
    void twoCopies() throws IOException {
        socket = ServerSocketChannel.open();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
        dispatcher = AcceptDispatcher.lazy(socket, "test");
        serving = app(true, servingSaw);
        standby = app(false, standbySaw);
    }

    @AfterEach
    void closeAll() throws IOException {
        for (ListenerView view : List.of(serving, standby)) {
            view.closeConnections();
            view.close();
        }
        dispatcher.close();
        socket.close();
    }

    /** A copy's app: a blocking HTTP server that notes each request's line and user agent, and answers 200. */
    private ListenerView app(boolean accepting, List<String> saw) throws IOException {
        ListenerView view = new ListenerView(new DispatcherOwner(dispatcher, accepting), SelectorProvider.provider());
        view.bind(new InetSocketAddress(0));
        Thread.ofVirtual().start(() -> {
            try {
                while (view.isOpen()) {
                    try (SocketChannel connection = view.accept()) {
                        Socket s = connection.socket();
                        s.setSoTimeout(10_000);
                        String head = readHead(s.getInputStream());
                        String agent = head.lines().filter(l -> l.startsWith("User-Agent: ")).findFirst().orElse("");
                        saw.add(head.lines().findFirst().orElse("") + " | " + agent);
                        s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                                .getBytes(StandardCharsets.ISO_8859_1));
                    }
                }
            } catch (IOException closed) {
                // the test ends
            }
        });
        return view;
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        for (int c; (c = in.read()) >= 0; ) {
            head.append((char) c);
            if (head.toString().endsWith("\r\n\r\n")) {
                break;
            }
        }
        return head.toString();
    }

    @Test
    void aStandbyAnswersItsOwnRequestsAndTheSharedSocketsGoToTheServingCopy() throws IOException {
        // a busy machine's budget: 50 round trips may take more than the product's 5 s there
        int answered = WarmUp.run("s", standby, "/health", () -> false, SelectorProvider.provider(),
                java.util.concurrent.TimeUnit.SECONDS.toNanos(120), 30_000);

        assertEquals(WarmUp.REQUESTS, answered);
        assertEquals(WarmUp.REQUESTS, standbySaw.size());
        assertTrue(standbySaw.stream().allMatch(l -> l.equals("GET /health HTTP/1.1 | User-Agent: forkless-warm-up")),
                standbySaw.toString());
        assertEquals(List.of(), servingSaw, "the serving copy got none of them");

        try (Socket client = new Socket()) {
            client.connect(socket.getLocalAddress(), 10_000);
            client.getOutputStream().write("GET /real HTTP/1.1\r\nUser-Agent: test\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            client.setSoTimeout(10_000);
            assertTrue(new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1).endsWith("ok"));
        }
        assertEquals(List.of("GET /real HTTP/1.1 | User-Agent: test"), servingSaw);
        assertEquals(WarmUp.REQUESTS, standbySaw.size(), "a connection of the shared socket never reaches the standby");
    }

    @Test
    void theWarmUpStopsWhenTheCopyIsPromoted() {
        AtomicInteger asked = new AtomicInteger();
        int answered = WarmUp.run("s", standby, "/", () -> asked.incrementAndGet() > 3, SelectorProvider.provider(),
                java.util.concurrent.TimeUnit.SECONDS.toNanos(120), 30_000);

        assertEquals(3, answered);
        assertEquals(3, standbySaw.size());
    }

    @Test
    void aClosedViewIsNotWarmed() throws IOException {
        standby.close();

        assertEquals(0, WarmUp.run("s", standby, "/", () -> false, SelectorProvider.provider()));
    }
}
