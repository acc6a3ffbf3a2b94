package dev.forkless.isolate;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Accepts every connection of one listening socket and hands each to the next {@link ListenerView} that
 * takes connections, round-robin: Node.js cluster's round-robin mode, inside one JVM.
 *
 * <p>One platform thread per socket (the runtime's own work runs on platform threads), in the JVM's root
 * thread group, started when the first view attaches. It accepts only while some
 * attached view takes connections; otherwise it leaves them in the kernel's backlog, where they wait
 * (neither refused nor lost) until a view takes connections again. A view that stops taking connections
 * while others still do gives back what was queued to it and not yet taken by the app: the dispatcher
 * hands those on first, in their order. A view whose app has left a connection waiting for a second (a
 * stuck acceptor) is skipped while another view keeps up. A view that stops while no other view takes connections keeps
 * its queue (a draining copy serves what it was given). A view that closes gives its queue back; the
 * connections wait in the dispatcher until a view takes them, and are closed only when the dispatcher
 * closes.
 *
 * <p><b>Lazy dispatchers</b> ({@link #lazy}: the runtime's and a child JVM's) never hold a connection:
 * when the socket has one, the dispatcher gives the next view that takes connections its <em>turn</em>
 * (the view becomes readable, a blocked acceptor wakes), and the app's {@code accept()} on that view
 * takes one connection straight from the kernel, without waiting, and ends the turn (when no other view
 * of the dispatcher takes connections, the turn lasts until an accept finds none). A connection no app
 * has taken stays in the kernel's backlog, where another JVM sharing the socket takes it: a JVM that ends
 * (exit, halt, unload) loses none. A view that stops taking connections or closes loses its turn; a view
 * whose app leaves its turn unused for a second loses it to another view that takes connections.
 * The eager hand-off described above ({@link #AcceptDispatcher(ServerSocketChannel, String)}) is what the
 * runtime used before (docs/decisions.md, "Lazy accept"); it is kept, tested, for comparison.
 *
 * <p>The dispatcher never closes the listening channel: its owner does, after {@link #close()}.
 */
public final class AcceptDispatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("forkless.listener");
    /** Accepts per wake-up at most, so the thread also sees view changes under a flood. */
    private static final int BATCH = 64;
    /** How long to wait after accept failed (for instance out of file descriptors) before trying again. */
    private static final long BACKOFF_MILLIS = 100;
    private static final ListenerView[] NO_VIEWS = new ListenerView[0];
    /** A view whose oldest queued connection waited this long gets new ones only when every view is so. */
    static final long BACKED_UP_NANOS = 1_000_000_000L;
    /** A lazy view that let a turn pass unused gets turns after the others for this long, then again. */
    static final long RETRY_NANOS = 5_000_000_000L;

    private final ServerSocketChannel channel;
    private final String name;
    /** Whether views take connections from the kernel themselves, one per turn (see the class comment). */
    private final boolean lazy;
    /** The view whose turn it is (lazy only). */
    private final AtomicReference<ListenerView> turn = new AtomicReference<>();
    /** When accept may be tried again after it failed (lazy only; System.nanoTime, 0 for now). */
    private volatile long backoffUntil;
    private final Selector selector;
    private final List<ListenerView> views = new CopyOnWriteArrayList<>();
    /** Connections accepted (or given back) that no view has taken yet; guarded by itself. */
    private final ArrayDeque<SocketChannel> pending = new ArrayDeque<>();
    private final AtomicBoolean changed = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();
    private final LongAdder accepted = new LongAdder();
    private volatile boolean closed;
    private volatile Thread thread;
    /** Round-robin position; dispatcher thread only (eager). */
    private int next;
    /** Round-robin position of the turns (lazy): the dispatcher thread and views passing the turn on. */
    private final java.util.concurrent.atomic.AtomicInteger nextTurn = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * A dispatcher for a bound listening channel; it switches the channel to non-blocking mode.
     *
     * @param channel the listening channel (bound)
     * @param name    what the thread and the log call it (the address)
     * @throws IOException when no selector can be opened
     */
    public AcceptDispatcher(ServerSocketChannel channel, String name) throws IOException {
        this(channel, name, false);
    }

    /**
     * A lazy dispatcher (see the class comment): views take each connection from the kernel when the app
     * accepts it, so connections no app took are left to the other JVMs sharing the socket.
     *
     * @param channel the listening channel (bound), maybe shared with other processes
     * @param name    what the thread and the log call it (the address)
     * @return the dispatcher
     * @throws IOException when no selector can be opened
     */
    public static AcceptDispatcher lazy(ServerSocketChannel channel, String name) throws IOException {
        return new AcceptDispatcher(channel, name, true);
    }

    private AcceptDispatcher(ServerSocketChannel channel, String name, boolean lazy) throws IOException {
        this.lazy = lazy;
        this.channel = Objects.requireNonNull(channel, "channel");
        this.name = Objects.requireNonNull(name, "name");
        if (channel.isBlocking()) {
            channel.configureBlocking(false);
        }
        this.selector = channel.provider().openSelector();
    }

    /** @return the listening channel */
    public ServerSocketChannel channel() {
        return channel;
    }

    /** @return whether views take connections from the kernel themselves (see the class comment) */
    public boolean isLazy() {
        return lazy;
    }

    /** @return connections accepted from the socket so far */
    public long acceptedConnections() {
        return accepted.sum();
    }

    /** @return connections accepted (or given back by a closed view) that no view holds yet */
    public int pending() {
        synchronized (pending) {
            return pending.size();
        }
    }

    /** @return views attached now */
    public int views() {
        return views.size();
    }

    /**
     * Stops accepting and ends the thread. Connections no view holds are closed; views keep what is
     * queued to them. The listening channel stays open.
     */
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            boolean interrupted = false;
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
        synchronized (pending) {
            pending.forEach(AcceptDispatcher::closeQuietly);
            pending.clear();
        }
    }

    // ---- what views tell their dispatcher ----

    /** A view bound: it gets connections from now on, while it takes them. */
    void attach(ListenerView view) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        views.add(view);
        if (started.compareAndSet(false, true)) {
            // The first bind comes on an app's thread: the dispatcher must not join its isolate's thread
            // group, nor keep its loader as context loader (it outlives the isolate).
            Thread t = Thread.ofPlatform().daemon(true).name("forkless-accept " + name).group(rootGroup())
                    .inheritInheritableThreadLocals(false).unstarted(this::run);
            t.setContextClassLoader(AcceptDispatcher.class.getClassLoader());
            thread = t;
            t.start();
        }
        changed();
    }

    /** A view closed; what was queued to it and not taken by the app goes to the next views, in order. */
    void detach(ListenerView view, List<SocketChannel> queued) {
        views.remove(view);
        turn.compareAndSet(view, null);
        if (!queued.isEmpty()) {
            synchronized (pending) {
                for (int i = queued.size() - 1; i >= 0; i--) {
                    pending.addFirst(queued.get(i));
                }
            }
            if (closed) {
                queued.forEach(AcceptDispatcher::closeQuietly);
            }
        }
        changed();
    }

    /** A view started or stopped taking connections. */
    void changed() {
        changed.set(true);
        selector.wakeup();
    }

    /**
     * A lazy view's app found no connection on its turn (another JVM took it, or the turn was passed to
     * it after the last one): the next turn is its own again, so that round-robin counts connections.
     */
    void foundNothing(ListenerView view) {
        int index = views.indexOf(view);
        if (index >= 0) {
            nextTurn.set(index);
        }
        turnEnded(view);
    }

    /** A lazy view's turn ended (the app accepted, or the view stopped or closed): the next one may come. */
    void turnEnded(ListenerView view) {
        if (turn.compareAndSet(view, null)) {
            selector.wakeup();
        }
    }

    /**
     * @return whether a view other than this one takes connections and has not let a turn pass (a lazy
     *         view's turn then goes on to it after each connection)
     */
    boolean othersKeepingUp(ListenerView view) {
        for (ListenerView other : views) {
            if (other != view && other.isAccepting() && !other.missedTurn()) {
                return true;
            }
        }
        return false;
    }

    /**
     * A lazy view's app took a connection on its turn, and other views take connections: the turn goes
     * straight to the next one (no wake-up of the dispatcher thread per connection under a burst); that
     * view ends it when it finds no connection, and the dispatcher looks at the socket again.
     */
    void passTurn(ListenerView from) {
        if (turn.get() != from) {
            return; // taken back meanwhile (the view stopped, the dispatcher revoked it)
        }
        if (!giveTurn(views.toArray(NO_VIEWS), from, false)) {
            turnEnded(from);
        }
    }

    /**
     * A lazy view closed (its app's acceptor was interrupted) just after it took a connection from the
     * kernel, before the app got it: the connection cannot go back to the backlog, so the next view that
     * takes connections gets it, as if its app had accepted it. Closed only when no view takes connections.
     */
    void handOn(ListenerView from, SocketChannel connection) {
        for (ListenerView view : views) {
            if (view != from && view.isAccepting() && view.offerOwn(connection)) {
                return;
            }
        }
        closeQuietly(connection);
    }

    /**
     * A lazy view's accept, on the app's thread: one connection from the kernel, without waiting.
     *
     * @return the connection, or {@code null} when there is none (another JVM took it) or accept failed
     */
    SocketChannel acceptNow() {
        SocketChannel connection;
        try {
            connection = channel.accept();
        } catch (ClosedChannelException e) {
            return null;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "accept on " + name + " failed: " + e.getMessage()
                    + "; trying again in " + BACKOFF_MILLIS + " ms");
            backoffUntil = System.nanoTime() + BACKOFF_MILLIS * 1_000_000;
            return null;
        }
        if (connection != null) {
            accepted.increment();
        }
        return connection;
    }

    // ---- the dispatcher thread ----

    private void run() {
        SelectionKey key;
        try {
            key = channel.register(selector, 0);
        } catch (ClosedChannelException | ClosedSelectorException e) {
            return;
        }
        if (lazy) {
            runLazy(key);
            return;
        }
        int interest = 0;
        long backoffUntil = 0;
        try {
            while (!closed) {
                try {
                    ListenerView[] all = views.toArray(NO_VIEWS);
                    boolean anyAccepting = anyAccepting(all);
                    if (changed.getAndSet(false) && anyAccepting) {
                        reclaim(all);
                    }
                    boolean nothingPending = handOutPending(all);
                    boolean backingOff = backoffUntil != 0 && System.nanoTime() - backoffUntil < 0;
                    int want = anyAccepting && nothingPending && !backingOff ? SelectionKey.OP_ACCEPT : 0;
                    if (want != interest) {
                        key.interestOps(want);
                        interest = want;
                    }
                    if (backingOff) {
                        selector.select(Math.max(1, (backoffUntil - System.nanoTime()) / 1_000_000));
                    } else {
                        backoffUntil = 0;
                        selector.select();
                    }
                    boolean ready = selector.selectedKeys().remove(key);
                    if (ready && want != 0 && !closed) {
                        backoffUntil = acceptSome();
                    }
                } catch (OutOfMemoryError full) {
                    // an isolate filled the shared heap: its replacement frees it; go on accepting then
                    backoffUntil = System.nanoTime() + BACKOFF_MILLIS * 1_000_000;
                }
            }
        } catch (ClosedSelectorException | java.nio.channels.CancelledKeyException e) {
            // closed
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.ERROR, "accepting on " + name + " failed; no more connections are "
                        + "accepted on it", e);
            }
        }
    }

    /** Watches the socket and gives turns; takes no connection itself. */
    private void runLazy(SelectionKey key) {
        int interest = 0;
        try {
            while (!closed) {
                try {
                    watchOnce(key, interest);
                } catch (OutOfMemoryError full) {
                    // an isolate filled the shared heap: its replacement frees it; go on watching then
                    backoffUntil = System.nanoTime() + BACKOFF_MILLIS * 1_000_000;
                }
                interest = key.interestOps();
            }
        } catch (ClosedSelectorException | java.nio.channels.CancelledKeyException e) {
            // closed
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.ERROR, "watching " + name + " failed; no more connections are "
                        + "accepted on it", e);
            }
        }
    }

    /** One look at the socket and the turn: takes back a stale turn, waits, gives the next one. */
    private void watchOnce(SelectionKey key, int interest) throws IOException {
        ListenerView[] all = views.toArray(NO_VIEWS);
        long now = System.nanoTime();
        ListenerView holder = turn.get();
        if (holder != null && (!holder.isAccepting()
                || (holder.turnAgeNanos(now) >= BACKED_UP_NANOS && anyKeepingUpBut(all, holder)))) {
            holder.revokeTurn(holder.isAccepting());
            turn.compareAndSet(holder, null);
            holder = turn.get();
        }
        long backoff = backoffUntil;
        boolean backingOff = backoff != 0 && backoff - now > 0;
        int want = holder == null && !backingOff && anyAccepting(all) ? SelectionKey.OP_ACCEPT : 0;
        if (want != interest) {
            key.interestOps(want);
            interest = want;
        }
        // a turn unused for a second passes to another view that takes connections (views pass
        // the turn among themselves meanwhile: with several views, look again at least each second)
        long timeoutNanos = backingOff ? backoff - now
                : holder == null || all.length < 2 ? 0
                : anyKeepingUpBut(all, holder)
                ? Math.max(1_000_000, BACKED_UP_NANOS - holder.turnAgeNanos(now)) : BACKED_UP_NANOS;
        if (timeoutNanos != 0) {
            selector.select(Math.max(1, timeoutNanos / 1_000_000));
        } else {
            selector.select();
        }
        boolean ready = selector.selectedKeys().remove(key);
        if (ready && want != 0 && !closed && turn.get() == null) {
            giveTurn(views.toArray(NO_VIEWS), null, true);
        }
    }

    /**
     * Gives the turn to the next view that takes connections, round-robin, skipping those that let one
     * pass unused.
     *
     * @param holder      the view whose turn it is (passing it on), or {@code null} when it is nobody's
     * @param evenToMissed whether, when every view let a turn pass, one of them gets it anyway
     * @return whether a view took it
     */
    private boolean giveTurn(ListenerView[] all, ListenerView holder, boolean evenToMissed) {
        int n = all.length;
        for (int pass = 0; pass < (evenToMissed ? 2 : 1); pass++) {
            for (int i = 0; i < n; i++) {
                ListenerView view = all[Math.floorMod(nextTurn.getAndIncrement(), n)];
                if (view != holder && view.isAccepting() && (pass == 1 || !view.missedTurn())) {
                    if (!turn.compareAndSet(holder, view)) {
                        return true; // someone else moved the turn meanwhile
                    }
                    if (view.grantTurn()) {
                        return true;
                    }
                    turn.compareAndSet(view, holder);
                }
            }
        }
        return false;
    }

    /** @return whether another view takes connections and has not let a turn pass */
    private static boolean anyKeepingUpBut(ListenerView[] all, ListenerView but) {
        for (ListenerView view : all) {
            if (view != but && view.isAccepting() && !view.missedTurn()) {
                return true;
            }
        }
        return false;
    }

    /** @return 0, or when to try again (System.nanoTime) after accept failed */
    private long acceptSome() {
        for (int i = 0; i < BATCH; i++) {
            SocketChannel connection;
            try {
                connection = channel.accept();
            } catch (ClosedChannelException e) {
                closed = true;
                return 0;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "accept on " + name + " failed: " + e.getMessage()
                        + "; trying again in " + BACKOFF_MILLIS + " ms");
                return System.nanoTime() + BACKOFF_MILLIS * 1_000_000;
            }
            if (connection == null) {
                return 0;
            }
            accepted.increment();
            if (!handOut(views.toArray(NO_VIEWS), connection)) {
                synchronized (pending) {
                    pending.addLast(connection);
                }
                return 0;
            }
        }
        return 0;
    }

    /**
     * Gives a connection to the next view that takes it, skipping views whose app has left a connection
     * waiting for {@link #BACKED_UP_NANOS} (a stuck acceptor) while another view keeps up.
     */
    private boolean handOut(ListenerView[] all, SocketChannel connection) {
        int n = all.length;
        long now = System.nanoTime();
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < n; i++) {
                ListenerView view = all[Math.floorMod(next++, n)];
                if (view.isAccepting() && (pass == 1 || view.acceptorAwayNanos(now) < BACKED_UP_NANOS)
                        && view.offer(connection)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** @return whether nothing is left pending */
    private boolean handOutPending(ListenerView[] all) {
        synchronized (pending) {
            SocketChannel first;
            while ((first = pending.peekFirst()) != null) {
                if (first.isOpen() && !handOut(all, first)) {
                    return false;
                }
                pending.pollFirst();
            }
            return true;
        }
    }

    /** Takes back what views that stopped taking connections still hold, to hand it to the others first. */
    private void reclaim(ListenerView[] all) {
        List<SocketChannel> back = new ArrayList<>();
        for (ListenerView view : all) {
            if (!view.isAccepting()) {
                back.addAll(view.reclaim());
            }
        }
        if (!back.isEmpty()) {
            synchronized (pending) {
                for (int i = back.size() - 1; i >= 0; i--) {
                    pending.addFirst(back.get(i));
                }
            }
        }
    }

    /** @return the JVM's root thread group: where the runtime's threads go, not an app's group */
    static ThreadGroup rootGroup() {
        ThreadGroup group = Thread.currentThread().getThreadGroup();
        while (group.getParent() != null) {
            group = group.getParent();
        }
        return group;
    }

    private static boolean anyAccepting(ListenerView[] all) {
        for (ListenerView view : all) {
            if (view.isAccepting()) {
                return true;
            }
        }
        return false;
    }

    private static void closeQuietly(SocketChannel connection) {
        try {
            connection.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** @return the dispatcher's state, for a diagnosis of a copy that takes no connection */
    public String describe() {
        Thread t = thread;
        ListenerView holder = turn.get();
        long backoff = backoffUntil;
        return "dispatcher[" + name + " lazy=" + lazy + " views=" + views.size() + " turn="
                + (holder == null ? "none" : "view" + views.indexOf(holder)) + " nextTurn=" + nextTurn.get()
                + " backoffMs=" + (backoff == 0 ? 0 : Math.max(0, (backoff - System.nanoTime()) / 1_000_000))
                + " accepted=" + accepted.sum() + " thread=" + (t == null ? "none" : t.getState()) + " closed=" + closed + "]";
    }

    @Override
    public String toString() {
        return "AcceptDispatcher[" + name + ", views=" + views.size() + "]";
    }
}
