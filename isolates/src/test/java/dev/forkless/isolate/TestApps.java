package dev.forkless.isolate;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Jars of the test apps in {@code testapps}, and a host that records what isolates report. */
final class TestApps {

    private TestApps() {
    }

    /** Writes a jar holding the test apps, with the given Main-Class. */
    static Path jar(Path dir, String mainClass) {
        Path jar = dir.resolve(mainClass + ".jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "testapps." + mainClass);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            for (String name : List.of("ExitApp", "HookApp", "ThrowingApp", "SocketApp", "SpinApp", "HazardApp", "EnvApp", "LingerApp", "JdkHttpApp", "UnlockApp", "CountingTask")) {
                out.putNextEntry(new JarEntry("testapps/" + name + ".class"));
                try (InputStream in = TestApps.class.getResourceAsStream("/testapps/" + name + ".class")) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return jar;
    }

    /** A host with real shared sockets that records the isolates' reports. */
    static final class RecordingHost implements IsolateHost, AutoCloseable {
        final CompletableFuture<Integer> exited = new CompletableFuture<>();
        final CompletableFuture<String> crashed = new CompletableFuture<>();
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        /** Dispatchers by socket, across hosts that share sockets (test-only bookkeeping). */
        private static final Map<ServerSocketChannel, AcceptDispatcher> DISPATCHERS = new java.util.WeakHashMap<>();
        private final Map<InetSocketAddress, ServerSocketChannel> sockets;
        final Map<InetSocketAddress, Integer> binds = new ConcurrentHashMap<>();

        RecordingHost() {
            this(new HashMap<>());
        }

        /** A host sharing its sockets with another host's, as isolates of one runtime do. */
        RecordingHost(Map<InetSocketAddress, ServerSocketChannel> sockets) {
            this.sockets = sockets;
        }

        /** One dispatcher per socket, as the runtime has; shared between hosts that share their sockets. */
        private AcceptDispatcher dispatcherOf(ServerSocketChannel channel) throws IOException {
            synchronized (DISPATCHERS) {
                AcceptDispatcher dispatcher = DISPATCHERS.get(channel);
                if (dispatcher == null) {
                    dispatcher = AcceptDispatcher.lazy(channel, String.valueOf(channel.getLocalAddress()));
                    DISPATCHERS.put(channel, dispatcher);
                }
                return dispatcher;
            }
        }

        Map<InetSocketAddress, ServerSocketChannel> sockets() {
            return sockets;
        }

        @Override
        public SharedSocket bind(Isolate isolate, SocketAddress requested, int backlog,
                                 Map<SocketOption<?>, Object> options) throws IOException {
            InetSocketAddress key = (InetSocketAddress) requested;
            ServerSocketChannel channel;
            synchronized (sockets) {
                channel = sockets.get(key);
                if (channel == null) {
                    channel = ServerSocketChannel.open();
                    channel.bind(key, backlog);
                    channel.configureBlocking(false);
                    sockets.put(key, channel);
                }
            }
            binds.merge(key, 1, Integer::sum);
            AcceptDispatcher dispatcher = dispatcherOf(channel);
            return new SharedSocket() {
                @Override
                public AcceptDispatcher dispatcher() {
                    return dispatcher;
                }

                @Override
                public void release() {
                    binds.merge(key, -1, Integer::sum);
                }
            };
        }

        InetSocketAddress boundAddress() throws IOException {
            synchronized (sockets) {
                return (InetSocketAddress) sockets.values().iterator().next().getLocalAddress();
            }
        }

        @Override
        public void ready(Isolate isolate) {
            ready.complete(null);
        }

        @Override
        public void exited(Isolate isolate, int status) {
            exited.complete(status);
        }

        @Override
        public void crashed(Isolate isolate, Thread thread, Throwable cause) {
            crashed.complete(String.valueOf(cause));
        }

        @Override
        public void close() throws IOException {
            synchronized (sockets) {
                for (ServerSocketChannel channel : sockets.values()) {
                    AcceptDispatcher dispatcher;
                    synchronized (DISPATCHERS) {
                        dispatcher = DISPATCHERS.remove(channel);
                    }
                    if (dispatcher != null) {
                        dispatcher.close();
                    }
                    channel.close();
                }
                sockets.clear();
            }
        }
    }
}
