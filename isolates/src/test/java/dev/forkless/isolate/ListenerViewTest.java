package dev.forkless.isolate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The listener view with real sockets and no isolate: what a server does with a
 * {@link ServerSocketChannel} (a JDK selector loop as Netty NIO runs it, blocking accept from platform and
 * virtual threads), and what the dispatcher promises (round-robin, standby gets nothing, nothing lost
 * when a view stops or closes).
 */
class ListenerViewTest {

    private ServerSocketChannel socket;
    private AcceptDispatcher dispatcher;
    private final List<Socket> clients = new ArrayList<>();
    private final List<ListenerView> views = new ArrayList<>();

    @BeforeEach
    void openSocket() throws IOException {
        socket = ServerSocketChannel.open();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        dispatcher = new AcceptDispatcher(socket, "test");
    }

    @AfterEach
    void closeAll() throws IOException {
        for (Socket client : clients) {
            client.close();
        }
        for (ListenerView view : views) {
            view.closeConnections();
            view.close();
        }
        dispatcher.close();
        socket.close();
    }

    /** An owner as a child JVM or an isolate would be: binds every view to the test's socket. */
    private final class Owner implements ListenerOwner {
        final boolean acceptingAtBind;
        final AtomicInteger accepted = new AtomicInteger();
        final CompletableFuture<Void> started = new CompletableFuture<>();

        Owner(boolean acceptingAtBind) {
            this.acceptingAtBind = acceptingAtBind;
        }

        @Override
        public SharedSocket bind(SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options) {
            return SharedSocket.of(dispatcher);
        }

        @Override
        public boolean isAccepting() {
            return acceptingAtBind;
        }

        @Override
        public void acceptorStarted(ListenerView view) {
            started.complete(null);
        }

        @Override
        public void accepted(ListenerView view, SocketChannel connection) {
            accepted.incrementAndGet();
        }
    }

    private ListenerView view(boolean accepting) throws IOException {
        ListenerView view = new ListenerView(new Owner(accepting), SelectorProvider.provider());
        views.add(view);
        view.bind(new InetSocketAddress(0));
        return view;
    }

    /** Connects a client that sends its number, so the server can tell connections apart and in order. */
    private Socket connect(int number) throws IOException {
        Socket client = new Socket();
        clients.add(client);
        client.connect(socket.getLocalAddress());
        client.getOutputStream().write(number);
        client.getOutputStream().flush();
        return client;
    }

    private static int numberOf(SocketChannel connection) throws IOException {
        connection.configureBlocking(true);
        ByteBuffer one = ByteBuffer.allocate(1);
        connection.socket().setSoTimeout(10_000);
        assertEquals(1, connection.read(one), "the client's number arrives");
        return one.get(0);
    }

    @Test
    void registersWithJdkSelectorsAndAcceptsAsNettyNioDoes() throws Exception {
        // Netty registers with 0 before binding, then asks for OP_ACCEPT; any number of selectors may register
        ListenerView view = new ListenerView(new Owner(true), SelectorProvider.provider());
        views.add(view);
        view.configureBlocking(false);
        try (Selector selector = Selector.open(); Selector other = Selector.open()) {
            SelectionKey key = view.register(selector, 0, "acceptor");
            SelectionKey otherKey = view.register(other, SelectionKey.OP_ACCEPT);
            view.bind(new InetSocketAddress(0));
            assertEquals(socket.getLocalAddress(), view.getLocalAddress(), "the view reports the shared address");
            assertTrue(view.socket().isBound(), "Netty's isActive() asks the socket adaptor");
            key.interestOps(SelectionKey.OP_ACCEPT);
            assertEquals(0, selector.selectNow(), "nothing to accept before a client connects");

            int total = 20;
            for (int i = 0; i < total; i++) {
                connect(i);
            }
            List<Integer> numbers = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (numbers.size() < total && System.nanoTime() < deadline) {
                if (selector.select(1000) == 0) {
                    continue;
                }
                for (SelectionKey ready : selector.selectedKeys()) {
                    assertSame(key, ready);
                    assertTrue(ready.isAcceptable());
                    SocketChannel connection;
                    while ((connection = view.accept()) != null) { // accept until null
                        assertInstanceOf(SocketChannel.class, connection);
                        numbers.add(numberOf(connection));
                        connection.close();
                    }
                }
                selector.selectedKeys().clear();
            }
            assertEquals(total, numbers.size(), "every connection was accepted through the selector");
            assertEquals(0, selector.selectNow(), "not ready once every queued connection is taken");
            assertEquals(0, other.selectNow(), "a second selector sees the same readiness");
            assertNull(view.accept(), "a non-blocking accept with nothing queued returns null");

            connect(99);
            await().atMost(Duration.ofSeconds(10)).until(() -> other.selectNow() == 1);
            assertTrue(otherKey.isAcceptable());

            // closing deregisters from every selector; the descriptor closes once they let go
            view.close();
            selector.selectNow();
            other.selectNow();
            assertTrue(!key.isValid() && !otherKey.isValid());
        }
    }

    @ParameterizedTest(name = "{0} thread")
    @ValueSource(strings = {"platform", "virtual"})
    void blockingAcceptWaitsAndCloseEndsItWithAsynchronousCloseException(String kind) throws Exception {
        ListenerView view = view(true);
        Thread.Builder threads = kind.equals("virtual") ? Thread.ofVirtual() : Thread.ofPlatform();
        CompletableFuture<Integer> first = new CompletableFuture<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        threads.start(() -> {
            try {
                first.complete(numberOf(view.accept()));
                view.accept(); // waits until the view closes
                ended.complete(null);
            } catch (Throwable e) {
                first.completeExceptionally(e);
                ended.complete(e);
            }
        });
        connect(7);
        assertEquals(7, first.get(20, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(10)).until(() -> view.waitingAcceptors() > 0);
        view.close();
        assertInstanceOf(AsynchronousCloseException.class, ended.get(20, TimeUnit.SECONDS),
                "a blocked acceptor learns of the close as Helidon expects");
    }

    @Test
    void interruptingABlockedAcceptorClosesTheView() throws Exception {
        ListenerView view = view(true);
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        Thread acceptor = Thread.ofVirtual().start(() -> {
            try {
                view.accept();
                ended.complete(null);
            } catch (Throwable e) {
                ended.complete(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> view.waitingAcceptors() > 0);
        acceptor.interrupt();
        assertInstanceOf(ClosedByInterruptException.class, ended.get(20, TimeUnit.SECONDS));
        assertTrue(!view.isOpen(), "as with the JDK's channels, the interrupt closed the view");
    }

    @Test
    void serverSocketFaceTimesOutAndAccepts() throws Exception {
        ListenerView view = view(true);
        ServerSocket server = view.socket();
        server.setSoTimeout(50);
        assertThrows(java.net.SocketTimeoutException.class, server::accept);
        connect(3);
        server.setSoTimeout(20_000);
        try (Socket accepted = server.accept()) {
            assertEquals(3, accepted.getInputStream().read());
        }
    }

    @Test
    void twoViewsOnOneDispatcherShareConnectionsRoundRobin() throws Exception {
        ListenerView a = view(true);
        ListenerView b = view(true);
        int total = 64;
        for (int i = 0; i < total; i++) {
            connect(i);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> a.queued() + b.queued() == total);
        assertEquals(total / 2, a.queued(), "round-robin: each view gets half, whoever accepts faster");
        assertEquals(total / 2, b.queued());
    }

    @Test
    void aViewWhoseAppStopsTakingConnectionsIsSkippedWhileAnotherKeepsUp() throws Exception {
        ListenerView stuck = view(true);
        ListenerView healthy = view(true);
        connect(0);
        connect(1);
        await().atMost(Duration.ofSeconds(20)).until(() -> stuck.queued() == 1 && healthy.queued() == 1);
        healthy.accept().close();
        await().atMost(Duration.ofSeconds(20))
                .until(() -> stuck.acceptorAwayNanos(System.nanoTime()) >= AcceptDispatcher.BACKED_UP_NANOS);
        // the healthy view takes each connection as it comes, as an acceptor that keeps up does (had it a
        // connection waiting for a second, on a busy machine, it would be skipped too)
        List<Integer> numbers = new ArrayList<>();
        for (int i = 2; i < 12; i++) {
            connect(i);
            await().atMost(Duration.ofSeconds(20)).until(() -> healthy.queued() == 1 || stuck.queued() > 1);
            if (healthy.queued() == 1) {
                numbers.add(numberOf(healthy.accept()));
            }
        }
        assertEquals(List.of(2, 3, 4, 5, 6, 7, 8, 9, 10, 11), numbers, "every new connection went to the view that keeps up");
        assertEquals(1, stuck.queued());
    }

    @Test
    void aStandbyGetsNothingAndConnectionsWaitInTheBacklogUntilItTakesThem() throws Exception {
        ListenerView standby = view(false);
        for (int i = 0; i < 5; i++) {
            connect(i);
        }
        // connected (the kernel completed the handshakes) but nobody accepts them from the backlog
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
                .until(() -> dispatcher.acceptedConnections() == 0 && standby.queued() == 0);
        standby.configureBlocking(false);
        assertNull(standby.accept(), "a standby gets no connection");

        standby.setAccepting(true);
        List<Integer> numbers = new ArrayList<>();
        standby.configureBlocking(true);
        for (int i = 0; i < 5; i++) {
            numbers.add(numberOf(standby.accept()));
        }
        assertEquals(List.of(0, 1, 2, 3, 4), numbers, "every waiting connection, in order, once resumed");
    }

    @Test
    void aViewThatStopsAcceptingGivesItsQueueToAnotherInOrder() throws Exception {
        ListenerView a = view(true);
        ListenerView b = view(false);
        for (int i = 0; i < 6; i++) {
            connect(i);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> a.queued() == 6);
        b.setAccepting(true);
        a.setAccepting(false); // a draining copy, while b serves
        await().atMost(Duration.ofSeconds(20)).until(() -> b.queued() == 6);
        assertEquals(0, a.queued());
        List<Integer> numbers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            numbers.add(numberOf(b.accept()));
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5), numbers);
    }

    @Test
    void aDrainingViewKeepsItsQueueWhenNoOtherViewTakesConnections() throws Exception {
        ListenerView a = view(true);
        connect(1);
        await().atMost(Duration.ofSeconds(20)).until(() -> a.queued() == 1);
        a.setAccepting(false);
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> a.queued() == 1);
        assertEquals(1, numberOf(a.accept()), "served by the draining copy rather than stranded");
    }

    @Test
    void aClosingViewLosesNoQueuedConnection() throws Exception {
        ListenerView a = view(true);
        for (int i = 0; i < 8; i++) {
            connect(i);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> a.queued() == 8);
        a.close(); // nobody else accepts yet: the dispatcher keeps them
        assertEquals(8, dispatcher.pending());

        ListenerView b = view(true); // a replacement copy binds
        List<Integer> numbers = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 8; i++) {
            numbers.add(numberOf(b.accept()));
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), numbers, "every queued connection, in order");
        assertEquals(0, dispatcher.pending());
    }

    @Test
    void closingWithQueuedConnectionsHandsThemToTheOtherView() throws Exception {
        ListenerView a = view(true);
        ListenerView b = view(true);
        for (int i = 0; i < 10; i++) {
            connect(i);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> a.queued() + b.queued() == 10);
        a.close();
        await().atMost(Duration.ofSeconds(20)).until(() -> b.queued() == 10);
        List<Integer> numbers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            numbers.add(numberOf(b.accept()));
        }
        numbers.sort(null);
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), numbers);
    }

    @Test
    void ownerHearsOfTheAcceptorAndOfEachConnection() throws Exception {
        Owner owner = new Owner(true);
        ListenerView view = new ListenerView(owner, SelectorProvider.provider());
        views.add(view);
        view.bind(null);
        connect(5);
        assertNotNull(view.accept());
        assertTrue(owner.started.isDone());
        assertEquals(1, owner.accepted.get());
        assertEquals(1, view.openConnections());
        assertEquals(1, view.closeConnections());
        assertEquals(0, view.openConnections());
    }
}
