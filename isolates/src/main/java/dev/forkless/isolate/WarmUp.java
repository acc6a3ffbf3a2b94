package dev.forkless.isolate;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * Warms a standby: a copy that is ready but takes no connection has never served, so its first real
 * requests would load, rewrite and run for the first time every class of the request path, and a crash
 * that promotes it would be answered that much later. The standby's app gets a few requests of the
 * copy's own instead, {@code GET} the warm-up path on private loopback connections that its listener
 * view hands it as if accepted ({@link ListenerView#offerOwn}): the shared socket and the other copies
 * never see them. One request per connection ({@code Connection: close}), one after the other, until
 * {@link #REQUESTS} were answered, one took longer than {@link #TIMEOUT_MILLIS}, the time is up, or the
 * copy starts taking connections (promoted), drains or closes.
 *
 * <p>The requests carry {@code User-Agent: forkless-warm-up}; an app's access log shows them, from
 * 127.0.0.1. A status other than 2xx is fine: the server's request path ran (parsing, routing, writing).
 */
public final class WarmUp {

    private static final System.Logger LOG = System.getLogger("forkless.isolate");

    /** Requests at most: the request path's classes load on the first, the rest get it interpreted past C1's thresholds. */
    public static final int REQUESTS = 50;
    /** The longest one request may take: an app whose path blocks is not waited for. */
    static final int TIMEOUT_MILLIS = 2_000;
    /** The longest the whole warm-up may take. */
    static final long BUDGET_NANOS = 5_000_000_000L;

    private WarmUp() {
    }

    /**
     * Starts warming the view's app on a daemon thread of the JVM's root thread group (not the app's).
     *
     * @param copy  who is warmed, for the log
     * @param view  the standby's listener view (bound, lazy)
     * @param path  the path to request, starting with {@code /}
     * @param stop  whether to stop now (the copy takes connections, drains or is gone)
     * @param jdk   the JDK's selector provider, for the private loopback listener (not a listener view:
     *              in a child JVM every listener the default provider opens is one)
     */
    public static void start(String copy, ListenerView view, String path, BooleanSupplier stop,
                             java.nio.channels.spi.SelectorProvider jdk) {
        Thread t = Thread.ofPlatform().daemon(true).name("forkless-warm-up " + copy).group(AcceptDispatcher.rootGroup())
                .inheritInheritableThreadLocals(false).unstarted(() -> run(copy, view, path, stop, jdk));
        t.setContextClassLoader(WarmUp.class.getClassLoader());
        t.start();
    }

    /** @return the requests answered */
    static int run(String copy, ListenerView view, String path, BooleanSupplier stop,
                   java.nio.channels.spi.SelectorProvider jdk) {
        return run(copy, view, path, stop, jdk, BUDGET_NANOS, TIMEOUT_MILLIS);
    }

    /**
     * @param budgetNanos   how long the whole warm-up may take ({@link #BUDGET_NANOS}; a test gives more)
     * @param timeoutMillis how long one request may take ({@link #TIMEOUT_MILLIS})
     * @return the requests answered
     */
    static int run(String copy, ListenerView view, String path, BooleanSupplier stop,
                   java.nio.channels.spi.SelectorProvider jdk, long budgetNanos, int timeoutMillis) {
        long start = System.nanoTime();
        int answered = 0;
        String host;
        try {
            host = hostOf(view);
        } catch (IOException e) {
            return 0;
        }
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: forkless-warm-up\r\n"
                + "Accept: */*\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        try (ServerSocketChannel loopback = jdk.openServerSocketChannel()) {
            loopback.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            while (answered < REQUESTS && System.nanoTime() - start < budgetNanos && !stop.getAsBoolean()
                    && view.isOpen()) {
                if (!once(loopback, view, request, timeoutMillis)) {
                    break;
                }
                answered++;
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "warm-up of copy " + copy + " ended: " + e);
        }
        int done = answered;
        LOG.log(System.Logger.Level.DEBUG, () -> "copy " + copy + " warmed up: " + done + " requests to " + path
                + " in " + (System.nanoTime() - start) / 1_000_000 + " ms");
        return answered;
    }

    /** One request on a fresh connection; @return whether the app answered it whole in time */
    private static boolean once(ServerSocketChannel loopback, ListenerView view, byte[] request, int timeoutMillis)
            throws IOException {
        try (Socket client = new Socket()) {
            try {
                OwnConnections.connect(client, loopback, view, timeoutMillis);
            } catch (java.net.ConnectException closed) {
                return false;
            }
            client.setSoTimeout(timeoutMillis);
            OutputStream out = client.getOutputStream();
            out.write(request);
            out.flush();
            InputStream in = client.getInputStream();
            byte[] buffer = new byte[8192];
            int total = 0;
            for (int n; (n = in.read(buffer)) >= 0; ) {
                total += n; // read to the end: the server closes after its answer
            }
            return total > 0;
        } catch (java.net.SocketTimeoutException slow) {
            return false;
        }
    }

    private static String hostOf(ListenerView view) throws IOException {
        if (view.getLocalAddress() instanceof InetSocketAddress address) {
            return (address.getAddress().isAnyLocalAddress() ? "127.0.0.1" : address.getHostString()) + ":" + address.getPort();
        }
        return "127.0.0.1";
    }
}
