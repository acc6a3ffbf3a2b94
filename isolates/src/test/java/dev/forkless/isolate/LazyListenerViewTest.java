package dev.forkless.isolate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
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

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lazy dispatchers (a child JVM's, in process mode) with real sockets: the app's accept takes each
 * connection from the kernel on its view's turn, so what no app took stays in the backlog for another
 * dispatcher on the same socket (another JVM), whatever happens to the view that was offered it.
 */
class LazyListenerViewTest {

    private ServerSocketChannel socket;
    private final List<AcceptDispatcher> dispatchers = new ArrayList<>();
    private final List<Socket> clients = new ArrayList<>();
    private final List<ListenerView> views = new ArrayList<>();

    @BeforeEach
    void openSocket() throws IOException {
        socket = ServerSocketChannel.open();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
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
        dispatchers.forEach(AcceptDispatcher::close);
        socket.close();
    }

    /** A dispatcher as one child JVM has on the shared socket (its own descriptor of the same socket). */
    private AcceptDispatcher jvm() throws IOException {
        AcceptDispatcher dispatcher = AcceptDispatcher.lazy(socket, "test");
        dispatchers.add(dispatcher);
        return dispatcher;
    }

    private ListenerView view(AcceptDispatcher dispatcher, boolean accepting) throws IOException {
        ListenerView view = new ListenerView(new DispatcherOwner(dispatcher, accepting), SelectorProvider.provider());
        views.add(view);
        view.bind(new InetSocketAddress(0));
        return view;
    }

    private Socket connect(int number) throws IOException {
        Socket client = new Socket();
        clients.add(client);
        client.connect(socket.getLocalAddress());
        client.getOutputStream().write(number);
        client.getOutputStream().flush();
        return client;
    }

    /** A blocking accept that fails the test instead of hanging it. */
    private static SocketChannel acceptWithin(ListenerView view) throws Exception {
        CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                accepted.complete(view.accept());
            } catch (Throwable e) {
                accepted.completeExceptionally(e);
            }
        });
        return accepted.get(20, TimeUnit.SECONDS);
    }

    private static int numberOf(SocketChannel connection) throws IOException {
        connection.configureBlocking(true);
        ByteBuffer one = ByteBuffer.allocate(1);
        connection.socket().setSoTimeout(10_000);
        assertEquals(1, connection.read(one), "the client's number arrives");
        return one.get(0);
    }

    @Test
    void aSelectorLoopAcceptsEveryConnectionAsNettyNioDoes() throws Exception {
        AcceptDispatcher dispatcher = jvm();
        ListenerView view = new ListenerView(new DispatcherOwner(dispatcher, true), SelectorProvider.provider());
        views.add(view);
        view.configureBlocking(false);
        try (Selector selector = Selector.open()) {
            SelectionKey key = view.register(selector, 0);
            view.bind(new InetSocketAddress(0));
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
                    SocketChannel connection;
                    while ((connection = view.accept()) != null) {
                        numbers.add(numberOf(connection));
                        connection.close();
                    }
                }
                selector.selectedKeys().clear();
            }
            assertEquals(total, numbers.size(), "every connection was accepted through the selector");
            assertEquals(List.copyOf(numbers), numbers.stream().sorted().toList(), "in the kernel's order");
            assertEquals(total, dispatcher.acceptedConnections());
            assertEquals(0, selector.selectNow(), "not ready once the backlog is empty");
        }
    }

    @ParameterizedTest(name = "{0} thread")
    @ValueSource(strings = {"platform", "virtual"})
    void blockingAcceptWaitsForATurnAndCloseEndsItWithAsynchronousCloseException(String kind) throws Exception {
        ListenerView view = view(jvm(), true);
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
        assertInstanceOf(AsynchronousCloseException.class, ended.get(20, TimeUnit.SECONDS));
    }

    @Test
    void aStandbyTakesNothingFromTheBacklogUntilItTakesConnections() throws Exception {
        AcceptDispatcher dispatcher = jvm();
        ListenerView standby = view(dispatcher, false);
        for (int i = 0; i < 5; i++) {
            connect(i);
        }
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
                .until(() -> dispatcher.acceptedConnections() == 0);
        standby.configureBlocking(false);
        assertNull(standby.accept(), "a standby gets no connection");
        standby.setAccepting(true);
        standby.configureBlocking(true);
        List<Integer> numbers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            numbers.add(numberOf(acceptWithin(standby)));
        }
        assertEquals(List.of(0, 1, 2, 3, 4), numbers, "every waiting connection, in order, once resumed");
    }

    @Test
    void aConnectionOfferedToAViewWhoseAppDidNotTakeItStaysForAnotherJvm() throws Exception {
        AcceptDispatcher ending = jvm();
        ListenerView offered = view(ending, true); // its app never accepts: a JVM about to exit
        connect(1);
        await().atMost(Duration.ofSeconds(20)).until(() -> offered.acceptorAwayNanos(System.nanoTime()) > 0);
        offered.setAccepting(false); // the child's exit hook: the copy drains
        offered.configureBlocking(false);
        assertNull(offered.accept(), "a draining view takes nothing more");
        offered.close();
        assertEquals(0, ending.acceptedConnections(), "the ending JVM took nothing from the kernel");

        ListenerView other = view(jvm(), true); // the other child
        assertEquals(1, numberOf(acceptWithin(other)), "the connection waited in the backlog");
    }

    @Test
    void twoViewsOfOneDispatcherTakeTurns() throws Exception {
        AcceptDispatcher dispatcher = jvm();
        ListenerView a = view(dispatcher, true);
        ListenerView b = view(dispatcher, true);
        List<Integer> byA = new CopyOnWriteArrayList<>();
        List<Integer> byB = new CopyOnWriteArrayList<>();
        int total = 40;
        for (var pair : List.of(Map.entry(a, byA), Map.entry(b, byB))) {
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    while (true) {
                        SocketChannel connection = pair.getKey().accept();
                        pair.getValue().add(numberOf(connection));
                        connection.close();
                    }
                } catch (IOException closed) {
                    // the test ended
                }
            });
        }
        for (int i = 0; i < total; i++) {
            connect(i);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> byA.size() + byB.size() == total);
        // turns alternate; a turn unused for a second (a stalled machine) may pass to the other view
        assertTrue(Math.abs(byA.size() - byB.size()) <= 4, "round-robin: " + byA.size() + " / " + byB.size());
        List<Integer> all = new ArrayList<>(byA);
        all.addAll(byB);
        all.sort(null);
        assertEquals(java.util.stream.IntStream.range(0, total).boxed().toList(), all, "each connection once");
    }

    @Test
    void aViewWhoseAppLetsItsTurnPassIsSkippedWhileAnotherKeepsUp() throws Exception {
        AcceptDispatcher dispatcher = jvm();
        ListenerView stuck = view(dispatcher, true);
        ListenerView healthy = view(dispatcher, true);
        List<Integer> numbers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            connect(i);
        }
        for (int i = 0; i < 10; i++) {
            numbers.add(numberOf(acceptWithin(healthy)));
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), numbers,
                "every connection went to the view that keeps up, none was lost to the stuck one");
        assertEquals(0, stuck.openConnections());
        assertTrue(stuck.acceptorAwayNanos(System.nanoTime()) >= AcceptDispatcher.BACKED_UP_NANOS,
                "the first turn went to the stuck view, and the hang watchdog still sees it waiting");
    }

    @ParameterizedTest(name = "{0} thread")
    @ValueSource(strings = {"platform", "virtual"})
    void aConnectionTakenAsItsAcceptorIsInterruptedGoesToAnotherViewNotClosed(String kind) throws Exception {
        // the interrupt comes inside the app's accept, just after the view took the connection from the kernel
        InterruptingChannel listening = new InterruptingChannel(socket);
        AcceptDispatcher dispatcher = AcceptDispatcher.lazy(listening, "test");
        dispatchers.add(dispatcher);
        ListenerView interrupted = view(dispatcher, true);
        listening.target = interrupted;
        ListenerView other = view(dispatcher, true); // its app has not called accept yet
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        (kind.equals("virtual") ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
            try {
                interrupted.accept();
                ended.complete(null);
            } catch (Throwable e) {
                ended.complete(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> interrupted.waitingAcceptors() > 0);
        Socket client = connect(5);
        assertInstanceOf(java.nio.channels.ClosedByInterruptException.class, ended.get(20, TimeUnit.SECONDS),
                "the interrupted accept ends as the JDK's does");
        assertEquals(1, listening.interrupts.get(), "the interrupt came after the connection was taken");
        assertTrue(!interrupted.isOpen(), "an interrupted channel operation closes the channel");

        SocketChannel served = acceptWithin(other);
        assertEquals(5, numberOf(served), "the other view's app gets the connection");
        served.write(ByteBuffer.wrap(new byte[] {42}));
        client.setSoTimeout(10_000);
        assertEquals(42, client.getInputStream().read(), "and answers on it: it was not closed");
        assertEquals(1, dispatcher.acceptedConnections(), "taken from the kernel once");
    }

    /**
     * The shared socket, as a lazy dispatcher sees it, whose accept interrupts the calling thread (the app's
     * acceptor) once, just after it took a connection from the kernel: the window between taking the
     * connection and handing it to the app.
     */
    private static final class InterruptingChannel extends ServerSocketChannel implements sun.nio.ch.SelChImpl {
        private final ServerSocketChannel real;
        private final sun.nio.ch.SelChImpl selectable;
        final java.util.concurrent.atomic.AtomicInteger interrupts = new java.util.concurrent.atomic.AtomicInteger();

        InterruptingChannel(ServerSocketChannel real) {
            super(SelectorProvider.provider());
            this.real = real;
            this.selectable = (sun.nio.ch.SelChImpl) real;
        }

        /** The view whose acceptor is interrupted. */
        volatile ListenerView target;

        @Override
        public SocketChannel accept() throws IOException {
            SocketChannel connection = real.accept();
            if (connection != null && interrupts.getAndIncrement() == 0) {
                // from another thread, as an app's shutdown does (a thread's own interrupt closes no channel);
                // the interrupt marks the view closed at once, then waits for the lock this thread holds
                Thread acceptor = Thread.currentThread();
                Thread.ofPlatform().daemon(true).start(acceptor::interrupt);
                while (target.isOpen()) {
                    Thread.onSpinWait();
                }
            }
            return connection;
        }

        @Override
        public ServerSocketChannel bind(java.net.SocketAddress local, int backlog) throws IOException {
            real.bind(local, backlog);
            return this;
        }

        @Override
        public <T> ServerSocketChannel setOption(java.net.SocketOption<T> name, T value) throws IOException {
            real.setOption(name, value);
            return this;
        }

        @Override
        public <T> T getOption(java.net.SocketOption<T> name) throws IOException {
            return real.getOption(name);
        }

        @Override
        public java.util.Set<java.net.SocketOption<?>> supportedOptions() {
            return real.supportedOptions();
        }

        @Override
        public java.net.ServerSocket socket() {
            return real.socket();
        }

        @Override
        public java.net.SocketAddress getLocalAddress() throws IOException {
            return real.getLocalAddress();
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException {
            real.close();
        }

        @Override
        protected void implConfigureBlocking(boolean block) throws IOException {
            real.configureBlocking(block);
        }

        @Override
        public java.io.FileDescriptor getFD() {
            return selectable.getFD();
        }

        @Override
        public int getFDVal() {
            return selectable.getFDVal();
        }

        @Override
        public boolean translateAndUpdateReadyOps(int ops, sun.nio.ch.SelectionKeyImpl ski) {
            return selectable.translateAndUpdateReadyOps(ops, ski);
        }

        @Override
        public boolean translateAndSetReadyOps(int ops, sun.nio.ch.SelectionKeyImpl ski) {
            return selectable.translateAndSetReadyOps(ops, ski);
        }

        @Override
        public int translateInterestOps(int ops) {
            return selectable.translateInterestOps(ops);
        }

        @Override
        public void kill() throws IOException {
            selectable.kill();
        }
    }
}
