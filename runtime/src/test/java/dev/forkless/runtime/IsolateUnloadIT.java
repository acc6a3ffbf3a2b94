package dev.forkless.runtime;

import dev.forkless.runtime.listen.SharedListeners;
import dev.forkless.isolate.AppJar;
import dev.forkless.isolate.Isolate;
import dev.forkless.isolate.IsolateHost;
import dev.forkless.isolate.SharedSocket;
import dev.forkless.isolate.UncaughtExceptionDispatcher;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A crashed isolate, once unloaded, leaves nothing that keeps its class loader alive. */
class IsolateUnloadIT {

    @Test
    void crashedIsolateLoaderIsCollectedAfterUnload() throws Exception {
        UncaughtExceptionDispatcher.install();
        AtomicReference<InetSocketAddress> bound = new AtomicReference<>();
        try (SharedListeners listeners = new SharedListeners(bound::set)) {
            CompletableFuture<Void> ready = new CompletableFuture<>();
            CompletableFuture<String> crashed = new CompletableFuture<>();
            IsolateHost host = new IsolateHost() {
                @Override
                public SharedSocket bind(Isolate isolate, SocketAddress requested, int backlog,
                                         Map<SocketOption<?>, Object> options) throws IOException {
                    return listeners.bind(requested, backlog, options);
                }

                @Override
                public void ready(Isolate isolate) {
                    ready.complete(null);
                }

                @Override
                public void exited(Isolate isolate, int status) {
                    crashed.complete("exit " + status);
                }

                @Override
                public void crashed(Isolate isolate, Thread thread, Throwable cause) {
                    // keep only text: a Throwable's backtrace holds the classes of its frames, and so their loader
                    crashed.complete(String.valueOf(cause));
                }
            };
            WeakReference<ClassLoader> loader = startCrashAndUnload(host, ready, crashed, bound);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                System.gc();
                return loader.get() == null;
            });
        }
    }

    /** Kept apart so that no local of the test method refers to the isolate. */
    private static WeakReference<ClassLoader> startCrashAndUnload(IsolateHost host, CompletableFuture<Void> ready,
                                                                  CompletableFuture<String> crashed,
                                                                  AtomicReference<InetSocketAddress> bound)
            throws Exception {
        Isolate isolate = Isolate.builder()
                .id("unload-test")
                .app(AppJar.open(RuntimeProcess.demoJar()))
                .host(host)
                .build();
        isolate.start(List.of("--port", "0", "--host", "127.0.0.1"));
        ready.get();
        assertEquals(200, Http.get(bound.get(), "/").status());
        assertEquals(202, Http.get(bound.get(), "/crash").status());
        assertTrue(crashed.get().contains("crash requested"), crashed.get());
        WeakReference<ClassLoader> loader = new WeakReference<>(isolate.loader());
        isolate.beginDrain();
        Isolate.UnloadReport report = isolate.unload(Duration.ofSeconds(2));
        assertEquals(List.of(), report.leftoverThreads(), "every thread of the isolate stopped");
        return loader;
    }
}
