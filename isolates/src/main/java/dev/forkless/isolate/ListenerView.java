package dev.forkless.isolate;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import sun.nio.ch.Net;
import sun.nio.ch.SelChImpl;
import sun.nio.ch.SelectionKeyImpl;

/**
 * One copy's listening socket: what the app gets when it opens a {@link ServerSocketChannel}. It looks
 * and behaves like the JDK's own: blocking or non-blocking {@link #accept()}, and registration with any
 * JDK {@link java.nio.channels.Selector} for {@link SelectionKey#OP_ACCEPT} (Netty NIO, XNIO, the JDK's
 * HttpServer do that), in any number.
 *
 * <p><b>How.</b> {@link #bind} joins the {@link SharedSocket} of the address (through the
 * {@link ListenerOwner}) instead of binding a socket of its own, and attaches the view to the socket's
 * {@link AcceptDispatcher}. A lazy dispatcher (the runtime's and a child's) gives the views turns: on its
 * turn, {@link #accept()} takes one connection from the kernel. An eager one accepts every connection and
 * queues each to one view, and {@link #accept()} returns the next one queued. Either way the app gets a
 * real {@link SocketChannel} of the JDK. The view is a {@code sun.nio.ch.SelChImpl} whose file
 * descriptor is the read end of a pipe that is readable exactly while it is the view's turn or
 * connections are queued to it (one byte is written when that starts, read when it ends), so selectors
 * see {@code OP_ACCEPT} as they would on a real socket.
 *
 * <p><b>API</b> (stable; a child JVM's agent uses it as the runtime does):
 * <ul>
 *   <li>{@link #ListenerView(ListenerOwner, SelectorProvider)}: a view for an owner; no isolate needed.</li>
 *   <li>{@link #setAccepting(boolean)} / {@link #isAccepting()}: whether the dispatcher gives the view
 *       connections (a standby or a draining copy gets none). The app's acceptor keeps running.</li>
 *   <li>{@link #openConnections()}, {@link #closeConnections()}: connections the app took, still open.</li>
 *   <li>{@link #queued()}, {@link #acceptorStarted()}, {@link #acceptorAwayNanos(long)}: what the
 *       supervisor watches.</li>
 * </ul>
 *
 * <p>Closing the view wakes a blocked acceptor with {@link AsynchronousCloseException} (Helidon's stop
 * signal) and gives the connections queued to it back to the dispatcher; the shared socket and the other
 * views are left alone.
 */
public final class ListenerView extends ServerSocketChannel implements SelChImpl {

    private static final Set<SocketOption<?>> OPTIONS = Set.of(
            StandardSocketOptions.SO_RCVBUF, StandardSocketOptions.SO_REUSEADDR, StandardSocketOptions.SO_REUSEPORT);
    private static final int PRUNE_EVERY = 32;

    private final ListenerOwner owner;
    private final Object stateLock = new Object();
    private final Map<SocketOption<?>, Object> options = new LinkedHashMap<>();
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();

    /** Guards the queue and the readiness pipe. */
    private final ReentrantLock queueLock = new ReentrantLock();
    private final Condition notEmpty = queueLock.newCondition();
    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    private final ByteBuffer signalByte = ByteBuffer.allocate(1);
    private final ByteBuffer drainBuffer = ByteBuffer.allocate(16);
    private final Pipe readiness;
    private final FileDescriptor fd;
    private final int fdVal;
    /** Whether the pipe holds its byte (the queue is not empty, or it is the view's turn); guarded by queueLock. */
    private boolean signalled;
    /** A lazy dispatcher's view: whether it is the view's turn, and since when; guarded by queueLock. */
    private boolean turn;
    private long turnSince;
    /** Since when the app has left its turns unused (the hang watchdog's "acceptor away"); guarded by queueLock. */
    private long awaySince;
    /** When the view last let a turn pass unused. */
    private volatile long missedAt;
    /** A lazy view's app took a connection on its turn: the turn goes on to the next view; guarded by queueLock. */
    private boolean turnToPass;
    /** A lazy view that let its last turn pass unused: it gets turns after the others. */
    private volatile boolean missedTurn;
    private boolean readinessClosed;

    private volatile SharedSocket shared;
    /** The dispatcher when it is lazy (views take connections from the kernel), else {@code null}. */
    private volatile AcceptDispatcher lazy;
    private volatile boolean accepting;
    private volatile boolean acceptorStarted;
    private int acceptedSincePrune;
    private ServerSocket adaptor;

    private record Queued(SocketChannel connection, long at) {
    }

    /**
     * A view; it binds nothing until the app calls {@link #bind}.
     *
     * @param owner    who binds the view and hears of it
     * @param provider the provider the app asked (reported by {@link #provider()})
     * @throws java.io.UncheckedIOException when the readiness pipe cannot be opened (out of descriptors)
     */
    public ListenerView(ListenerOwner owner, SelectorProvider provider) {
        super(provider);
        this.owner = Objects.requireNonNull(owner, "owner");
        try {
            // the JDK's own pipe, whatever provider the JVM was given: its source must be a SelChImpl
            this.readiness = sun.nio.ch.DefaultSelectorProvider.get().openPipe();
            readiness.source().configureBlocking(false);
            readiness.sink().configureBlocking(false);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        SelChImpl source = (SelChImpl) readiness.source();
        this.fd = source.getFD();
        this.fdVal = source.getFDVal();
    }

    @Override
    public ServerSocketChannel bind(SocketAddress local, int backlog) throws IOException {
        SharedSocket socket;
        synchronized (stateLock) {
            if (!isOpen()) {
                throw new ClosedChannelException();
            }
            if (shared != null) {
                throw new AlreadyBoundException();
            }
            socket = owner.bind(local, backlog, Map.copyOf(options));
            try {
                this.accepting = owner.isAccepting();
                this.lazy = socket.dispatcher().isLazy() ? socket.dispatcher() : null;
                socket.dispatcher().attach(this);
                this.shared = socket;
            } catch (IOException | RuntimeException e) {
                socket.release();
                throw e;
            }
        }
        owner.bound(this);
        return this;
    }

    @Override
    public SocketChannel accept() throws IOException {
        ensureBound();
        markAcceptorStarted();
        if (!isBlocking()) {
            SocketChannel connection;
            boolean pass;
            queueLock.lock();
            try {
                connection = take();
            } finally {
                pass = turnPassed();
                queueLock.unlock();
            }
            if (pass) {
                lazy.passTurn(this);
            }
            return track(connection);
        }
        return acceptBlocking(0);
    }

    private SharedSocket ensureBound() throws IOException {
        SharedSocket socket = shared;
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        if (socket == null) {
            throw new NotYetBoundException();
        }
        return socket;
    }

    /**
     * Waits for a connection, whatever the blocking mode: from a platform or a virtual thread. Closing
     * the view ends the wait with {@link AsynchronousCloseException}; interrupting the thread closes the
     * view and ends it with {@link ClosedByInterruptException}, as the JDK's channels do. A connection
     * taken meanwhile is not lost: another view of the dispatcher gets it.
     *
     * @param timeoutMillis at most this long, {@code 0} for no limit
     * @return the connection, or {@code null} when the timeout passed
     */
    SocketChannel acceptBlocking(long timeoutMillis) throws IOException {
        SharedSocket socket = ensureBound();
        markAcceptorStarted();
        long nanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        boolean completed = false;
        boolean interrupted = false;
        SocketChannel taken = null;
        try {
            begin();
            queueLock.lock();
            try {
                while (isOpen()) {
                    taken = take();
                    if (taken != null) {
                        completed = true;
                        break;
                    }
                    try {
                        if (timeoutMillis <= 0) {
                            notEmpty.await();
                        } else if (nanos <= 0) {
                            completed = true;
                            return null;
                        } else {
                            nanos = notEmpty.awaitNanos(nanos);
                        }
                    } catch (InterruptedException e) {
                        interrupted = true;
                        break;
                    }
                }
            } finally {
                boolean pass = turnPassed();
                queueLock.unlock();
                if (pass) {
                    lazy.passTurn(this);
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
                close(); // an interrupted channel operation closes the channel
            }
        } finally {
            try {
                end(completed);
            } catch (IOException closedMeanwhile) {
                if (taken != null && lazy != null) {
                    // taken from the kernel, it cannot go back: another view of this JVM serves it
                    connections.remove(taken);
                    lazy.handOn(this, taken);
                } else if (taken != null) {
                    // interrupted or closed as the connection was taken: it goes to another view, not lost
                    socket.dispatcher().detach(this, List.of(taken));
                }
                throw closedMeanwhile;
            }
        }
        if (completed) {
            return track(taken); // null when the timeout passed
        }
        throw interrupted ? new ClosedByInterruptException() : new AsynchronousCloseException();
    }

    /** Takes the next queued connection (a lazy view: one from the kernel, on its turn); queueLock held. */
    private SocketChannel take() throws IOException {
        AcceptDispatcher dispatcher = lazy;
        if (dispatcher != null) {
            Queued warmUp = queue.pollFirst(); // a lazy view's queue holds only its own warm-up connections
            if (warmUp != null) {
                if (queue.isEmpty() && !turn) {
                    unsignal();
                }
                return warmUp.connection();
            }
            return takeOnTurn(dispatcher);
        }
        Queued next = queue.pollFirst();
        if (queue.isEmpty()) {
            unsignal();
        }
        return next == null ? null : next.connection();
    }

    /** A lazy view's accept: on its turn, one connection from the kernel; the turn ends. queueLock held. */
    private SocketChannel takeOnTurn(AcceptDispatcher dispatcher) throws IOException {
        missedTurn = false; // the app's acceptor is back
        if (!turn) {
            return null;
        }
        SocketChannel connection = accepting && isOpen() ? dispatcher.acceptNow() : null;
        if (connection != null) {
            // counted before the lock is released: a copy that stops accepting then sees it open
            connections.add(connection);
            if (!dispatcher.othersKeepingUp(this)) {
                // nobody in this JVM to take turns with: the turn lasts while the app finds connections
                // (one dispatcher wake-up per burst, not per connection)
                turnSince = System.nanoTime();
                awaySince = turnSince;
                return connection;
            }
        }
        turn = false;
        if (queue.isEmpty()) {
            unsignal();
        }
        if (connection != null) {
            turnToPass = true; // to the next view, once the lock is released (passTurn takes its lock)
        } else {
            dispatcher.foundNothing(this);
        }
        return connection;
    }

    /** @return whether the turn is to be passed on (and forgets it); queueLock held */
    private boolean turnPassed() {
        boolean pass = turnToPass;
        turnToPass = false;
        return pass;
    }

    private void unsignal() throws IOException {
        if (signalled && !readinessClosed) {
            drainBuffer.clear();
            while (readiness.source().read(drainBuffer) > 0) {
                drainBuffer.clear();
            }
            signalled = false;
        }
    }

    // ---- what the dispatcher does ----

    /**
     * Queues a connection for the app (dispatcher thread).
     *
     * @return whether the view took it ({@code false} once closed)
     */
    boolean offer(SocketChannel connection) {
        queueLock.lock();
        try {
            if (!isOpen() || readinessClosed) {
                return false;
            }
            queue.addLast(new Queued(connection, System.nanoTime()));
            if (!signalled) {
                signalByte.clear();
                readiness.sink().write(signalByte);
                signalled = true;
            }
            notEmpty.signal();
            return true;
        } catch (IOException e) {
            queue.pollLast();
            return false;
        } finally {
            queueLock.unlock();
        }
    }

    /**
     * Hands the app a connection of the copy's own, as if accepted, whether or not the view takes
     * connections: a standby's warm-up requests ({@link WarmUp}). A lazy view only (its queue holds nothing
     * else; an eager dispatcher would take it back from a view that takes no connections).
     *
     * @return whether the view took it ({@code false} once closed, or when it is not lazy)
     */
    boolean offerOwn(SocketChannel connection) {
        return lazy != null && offer(connection);
    }

    /** @return whether {@link #offerOwn} can take a connection (the view's dispatcher is lazy) */
    boolean takesOwn() {
        return lazy != null;
    }

    /**
     * A lazy dispatcher gives the view its turn: it becomes readable, a blocked acceptor wakes.
     *
     * @return whether the view took it ({@code false} once closed or stopped)
     */
    boolean grantTurn() {
        queueLock.lock();
        try {
            if (!isOpen() || readinessClosed || !accepting) {
                return false;
            }
            turn = true;
            turnSince = System.nanoTime();
            if (!missedTurn) {
                awaySince = turnSince; // a view that let a turn pass is still waited for since then
            }
            if (!signalled) {
                signalByte.clear();
                readiness.sink().write(signalByte);
                signalled = true;
            }
            notEmpty.signalAll();
            return true;
        } catch (IOException e) {
            turn = false;
            return false;
        } finally {
            queueLock.unlock();
        }
    }

    /**
     * A lazy dispatcher takes the turn back.
     *
     * @param missed whether the app let the turn pass unused (it gets turns after the other views)
     */
    void revokeTurn(boolean missed) {
        queueLock.lock();
        try {
            if (turn) {
                turn = false;
                missedTurn = missed;
                if (missed) {
                    missedAt = System.nanoTime();
                }
                try {
                    unsignal();
                } catch (IOException ignored) {
                    // the pipe is broken: the view is closing
                }
            }
        } finally {
            queueLock.unlock();
        }
    }

    /**
     * @return whether the app let its last turn pass unused less than {@link AcceptDispatcher#RETRY_NANOS}
     *         ago and has not called accept since (a selector-based app only does when signalled: after
     *         that time it gets a turn again, in case it is back)
     */
    boolean missedTurn() {
        return missedTurn && System.nanoTime() - missedAt < AcceptDispatcher.RETRY_NANOS;
    }

    /**
     * @param now {@link System#nanoTime()}
     * @return how long the view has held its current turn, 0 when it holds none
     */
    long turnAgeNanos(long now) {
        queueLock.lock();
        try {
            return turn && isOpen() ? Math.max(0, now - turnSince) : 0;
        } finally {
            queueLock.unlock();
        }
    }

    /** @return what is queued to the view, taken away from it, in order */
    List<SocketChannel> reclaim() {
        queueLock.lock();
        try {
            List<SocketChannel> taken = new ArrayList<>(queue.size());
            queue.forEach(q -> taken.add(q.connection()));
            queue.clear();
            try {
                unsignal();
            } catch (IOException ignored) {
                // the pipe is broken: the view is closing
            }
            return taken;
        } finally {
            queueLock.unlock();
        }
    }

    // ---- what the owner controls and watches ----

    /**
     * Starts or stops giving this view connections; the app's acceptor keeps waiting either way.
     *
     * @param on whether the view takes connections
     */
    public void setAccepting(boolean on) {
        accepting = on;
        AcceptDispatcher dispatcher = lazy;
        if (dispatcher != null && !on) {
            // no turn left, and no accept under way: what the app took is in openConnections() now
            revokeTurn(false);
            dispatcher.turnEnded(this);
        }
        SharedSocket socket = shared;
        if (socket != null) {
            socket.dispatcher().changed();
        }
    }

    /** @return whether the dispatcher gives this view connections */
    public boolean isAccepting() {
        return accepting && isOpen();
    }

    /** @return connections queued to this view that the app has not taken yet */
    public int queued() {
        queueLock.lock();
        try {
            return queue.size();
        } finally {
            queueLock.unlock();
        }
    }

    /**
     * How long the oldest connection queued to this view has waited for the app's acceptor: a hung
     * acceptor shows here.
     *
     * @param now {@link System#nanoTime()}
     * @return nanoseconds, or 0 when nothing waits
     */
    public long acceptorAwayNanos(long now) {
        queueLock.lock();
        try {
            if (lazy != null) {
                // since the app was first offered a connection it has not taken (a hung acceptor shows)
                return (turn || missedTurn) && isOpen() ? Math.max(0, now - awaySince) : 0;
            }
            Queued oldest = queue.peekFirst();
            return oldest == null || !isOpen() ? 0 : Math.max(0, now - oldest.at());
        } finally {
            queueLock.unlock();
        }
    }

    /** @return the view's state and its dispatcher's, for a diagnosis of a copy that takes no connection */
    public String describe() {
        long now = System.nanoTime();
        String mine;
        queueLock.lock();
        try {
            mine = "view[accepting=" + accepting + " open=" + isOpen() + " turn=" + turn
                    + " turnAgeMs=" + (turn ? (now - turnSince) / 1_000_000 : 0) + " missedTurn=" + missedTurn
                    + " signalled=" + signalled + " queued=" + queue.size() + " blocking=" + isBlocking()
                    + " acceptorStarted=" + acceptorStarted + "]";
        } finally {
            queueLock.unlock();
        }
        SharedSocket socket = shared;
        return socket == null ? mine : mine + " " + socket.dispatcher().describe();
    }

    /** @return connections the app took from this view that are still open */
    public int openConnections() {
        connections.removeIf(c -> !c.isOpen());
        return connections.size();
    }

    /** @return the connections the app took from this view that are still open */
    public java.util.List<SocketChannel> connections() {
        return connections.stream().filter(SocketChannel::isOpen).toList();
    }

    /**
     * Closes every connection the app took from this view that is still open.
     *
     * @return how many were open
     */
    public int closeConnections() {
        int closed = 0;
        for (SocketChannel channel : connections) {
            if (channel.isOpen()) {
                try {
                    channel.close();
                    closed++;
                } catch (IOException ignored) {
                    // it is being closed either way
                }
            }
        }
        connections.clear();
        return closed;
    }

    /** @return whether the app's acceptor has called {@code accept()} on this view */
    public boolean acceptorStarted() {
        return acceptorStarted;
    }

    /** @return threads waiting in a blocking accept */
    int waitingAcceptors() {
        queueLock.lock();
        try {
            return queueLock.getWaitQueueLength(notEmpty);
        } finally {
            queueLock.unlock();
        }
    }

    /** @return the shared socket, or {@code null} while unbound or once closed */
    SharedSocket shared() {
        return shared;
    }

    /** The app's acceptor is running: the copy is ready. */
    private void markAcceptorStarted() {
        if (!acceptorStarted) {
            acceptorStarted = true;
            owner.acceptorStarted(this);
        }
    }

    private SocketChannel track(SocketChannel channel) {
        if (channel == null) {
            return null;
        }
        connections.add(channel);
        if (++acceptedSincePrune >= PRUNE_EVERY) {
            acceptedSincePrune = 0;
            connections.removeIf(c -> !c.isOpen());
        }
        owner.accepted(this, channel);
        return channel;
    }

    // ---- ServerSocketChannel ----

    @Override
    public ServerSocket socket() {
        synchronized (stateLock) {
            if (adaptor == null) {
                try {
                    adaptor = new IsolateServerSocket(this);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return adaptor;
        }
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        SharedSocket socket = shared;
        return socket == null ? null : socket.channel().getLocalAddress();
    }

    @Override
    public <T> ServerSocketChannel setOption(SocketOption<T> name, T value) throws IOException {
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        synchronized (stateLock) {
            // Options apply when the shared socket is created; later ones would change it for every copy.
            options.put(name, value);
        }
        return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getOption(SocketOption<T> name) throws IOException {
        if (!OPTIONS.contains(name)) {
            throw new UnsupportedOperationException("'" + name + "' not supported");
        }
        if (!isOpen()) {
            throw new ClosedChannelException();
        }
        SharedSocket socket = shared;
        if (socket != null) {
            return socket.channel().getOption(name);
        }
        synchronized (stateLock) {
            return (T) options.get(name);
        }
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return OPTIONS;
    }

    @Override
    protected void implCloseSelectableChannel() throws IOException {
        SharedSocket socket;
        synchronized (stateLock) {
            socket = shared;
            shared = null;
        }
        List<SocketChannel> left;
        queueLock.lock();
        try {
            left = new ArrayList<>(queue.size());
            queue.forEach(q -> left.add(q.connection()));
            queue.clear();
            notEmpty.signalAll(); // a blocked acceptor throws AsynchronousCloseException
            turn = false;
            if (!isRegistered()) {
                closeReadiness();
            }
        } finally {
            queueLock.unlock();
        }
        if (socket != null) {
            socket.dispatcher().detach(this, left);
            socket.release();
        }
        owner.closed(this);
    }

    @Override
    protected void implConfigureBlocking(boolean block) {
        // accept() reads isBlocking() each call; the readiness pipe stays non-blocking
    }

    // ---- SelChImpl: what JDK selectors need ----

    @Override
    public FileDescriptor getFD() {
        return fd;
    }

    @Override
    public int getFDVal() {
        return fdVal;
    }

    @Override
    public boolean translateAndUpdateReadyOps(int ops, SelectionKeyImpl ski) {
        return translateReadyOps(ops, ski.nioReadyOps(), ski);
    }

    @Override
    public boolean translateAndSetReadyOps(int ops, SelectionKeyImpl ski) {
        return translateReadyOps(ops, 0, ski);
    }

    /** As the JDK's ServerSocketChannelImpl does. */
    private boolean translateReadyOps(int ops, int initialOps, SelectionKeyImpl ski) {
        int intOps = ski.nioInterestOps();
        int oldOps = ski.nioReadyOps();
        int newOps = initialOps;
        if ((ops & Net.POLLNVAL) != 0) {
            return false;
        }
        if ((ops & (Net.POLLERR | Net.POLLHUP)) != 0) {
            newOps = intOps;
            ski.nioReadyOps(newOps);
            return (newOps & ~oldOps) != 0;
        }
        if ((ops & Net.POLLIN) != 0 && (intOps & SelectionKey.OP_ACCEPT) != 0) {
            newOps |= SelectionKey.OP_ACCEPT;
        }
        ski.nioReadyOps(newOps);
        return (newOps & ~oldOps) != 0;
    }

    @Override
    public int translateInterestOps(int ops) {
        if ((ops & SelectionKey.OP_ACCEPT) == 0) {
            return 0;
        }
        // A selector now waits for connections on this view: a selector-based server (Netty, XNIO, the
        // JDK HttpServer) calls accept() only once a connection is signalled, so this is its acceptor
        // starting, and the copy is ready.
        markAcceptorStarted();
        return Net.POLLIN;
    }

    /** Every selector let go of the closed view: its descriptor can close now (its number is reused). */
    @Override
    public void kill() {
        queueLock.lock();
        try {
            if (!isOpen() && !isRegistered()) {
                closeReadiness();
            }
        } finally {
            queueLock.unlock();
        }
    }

    /**
     * Parks until a connection is queued (the JDK calls this for its own channels; kept for any caller).
     */
    @Override
    public void park(int event, long nanos) throws IOException {
        queueLock.lock();
        try {
            if (isOpen() && queue.isEmpty() && !turn) {
                notEmpty.awaitNanos(nanos <= 0 ? Long.MAX_VALUE : nanos);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            queueLock.unlock();
        }
    }

    private void closeReadiness() {
        if (readinessClosed) {
            return;
        }
        readinessClosed = true;
        signalled = false;
        try {
            readiness.sink().close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            readiness.source().close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public String toString() {
        return "ListenerView[" + owner + ", shared=" + shared + ", accepting=" + accepting + "]";
    }
}
