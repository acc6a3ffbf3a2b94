package dev.forkless.isolate;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The least an {@link Isolate} needs to run outside the runtime: a host that binds one real shared
 * socket per address with its dispatcher (as the runtime's {@code SharedListeners} do) and ignores reports.
 * The benchmarks live in the isolate package to reach {@link Isolate#openListener}, which the rewritten
 * {@code ServerSocketChannel.open()} calls in an app.
 */
final class BenchHost implements IsolateHost, AutoCloseable {

    private ServerSocketChannel channel;
    private AcceptDispatcher dispatcher;

    /** An isolate of the demo that is never started (its loader over the demo's jars is built but loads nothing). */
    static Isolate isolate(BenchHost host) {
        return Isolate.builder().id("bench").host(host).app(AppJar.open(demoLib().getParent().resolve("demo.jar")))
                .build();
    }

    @Override
    public synchronized SharedSocket bind(Isolate isolate, SocketAddress requested, int backlog,
                                          Map<SocketOption<?>, Object> options) throws IOException {
        if (channel == null) {
            channel = ServerSocketChannel.open();
            channel.bind(requested, backlog);
            channel.configureBlocking(false);
            dispatcher = AcceptDispatcher.lazy(channel, "bench"); // as the runtime has
        }
        return SharedSocket.of(dispatcher);
    }

    @Override
    public void ready(Isolate isolate) {
    }

    @Override
    public void exited(Isolate isolate, int status) {
    }

    @Override
    public void crashed(Isolate isolate, Thread thread, Throwable cause) {
    }

    @Override
    public synchronized void close() throws IOException {
        if (channel != null) {
            dispatcher.close();
            channel.close();
        }
    }

    /** The demo's dependency jars (demo/target/lib), from the repository root or {@code -Dforkless.bench.lib}. */
    static Path demoLib() {
        Path lib = Path.of(System.getProperty("forkless.bench.lib", "demo/target/lib")).toAbsolutePath();
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException(lib + " is missing: run from the repository root after ./dev build, "
                    + "or pass -Dforkless.bench.lib=DIR");
        }
        return lib;
    }

    static InetSocketAddress loopback() {
        return new InetSocketAddress("127.0.0.1", 0);
    }
}
