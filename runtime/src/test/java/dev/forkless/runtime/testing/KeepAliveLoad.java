package dev.forkless.runtime.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop load like {@code wrk -c N}: N keep-alive connections, each sending the next request as
 * soon as the previous response arrived, reconnecting only when the server said {@code Connection: close}.
 * Every failure counts: an error on the socket, a non-200 answer.
 */
public final class KeepAliveLoad implements AutoCloseable {

    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong nonOk = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong reconnects = new AtomicLong();
    private final Set<String> failures = ConcurrentHashMap.newKeySet();
    /** Each failure: when (ms since the load began), on which request of its connection, and what. */
    private final List<String> timeline = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final long began = System.nanoTime();
    private final List<Thread> threads = new ArrayList<>();
    private final long deadline;
    private volatile boolean stopped;

    private KeepAliveLoad(InetSocketAddress address, String path, int connections, Duration duration) {
        this.deadline = System.nanoTime() + duration.toNanos();
        for (int i = 0; i < connections; i++) {
            threads.add(Thread.ofVirtual().name("load-" + i).start(() -> run(address, path)));
        }
    }

    /** Starts the load; it stops by itself after {@code duration}. */
    public static KeepAliveLoad start(InetSocketAddress address, String path, int connections, Duration duration) {
        return new KeepAliveLoad(address, path, connections, duration);
    }

    private void run(InetSocketAddress address, String path) {
        Http http = new Http(address);
        int onConnection = 0;
        try {
            while (!stopped && System.nanoTime() < deadline) {
                try {
                    Http.Response response = http.send(path, false);
                    onConnection++;
                    if (response.status() == 200) {
                        ok.incrementAndGet();
                    } else {
                        nonOk.incrementAndGet();
                        failures.add("status " + response.status());
                        failed(onConnection, "status " + response.status() + (response.closed() ? " (closed)" : ""));
                    }
                    if (response.closed()) {
                        reconnects.incrementAndGet();
                        onConnection = 0;
                    }
                } catch (IOException e) {
                    errors.incrementAndGet();
                    failures.add(e.toString());
                    failed(onConnection + 1, e.toString());
                    onConnection = 0;
                    http.close();
                }
            }
        } finally {
            http.close();
        }
    }

    private void failed(int requestOnConnection, String what) {
        if (timeline.size() < 64) {
            timeline.add("+" + millisSinceStart() + "ms #" + requestOnConnection + " " + what);
        }
    }

    /** @return milliseconds since the load began (to place a fault on its failures' timeline) */
    public long millisSinceStart() {
        return (System.nanoTime() - began) / 1_000_000;
    }

    /** Waits until the load has run its duration. */
    public KeepAliveLoad await() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
        return this;
    }

    public long ok() {
        return ok.get();
    }

    /** @return non-200 answers plus socket errors */
    public long failed() {
        return nonOk.get() + errors.get();
    }

    public long reconnects() {
        return reconnects.get();
    }

    /** @return a summary for assertion messages */
    public String summary() {
        return "ok=" + ok + " non200=" + nonOk + " errors=" + errors + " reconnects=" + reconnects + " failures=" + failures
                + (timeline.isEmpty() ? "" : " timeline=" + timeline);
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        await();
    }
}
