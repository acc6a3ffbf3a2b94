package dev.forkless.isolate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.jar.JarFile;

/**
 * What every copy of an app gets in its system properties unless the JVM that runs Forkless sets the
 * property itself, in isolate mode ({@link Isolate#properties()}) and in process mode (the child JVM's
 * {@code -D} options).
 *
 * <p>{@code io.netty.transport.noNative=true}: Netty's native transports (epoll, io_uring, kqueue) open
 * their listening socket in native code, where the shared listener cannot reach; with the property they
 * report themselves unavailable, and Vert.x, Reactor Netty, Micronaut and Quarkus choose NIO, which runs
 * on the shared socket. An app that asks for epoll itself gets NIO at its call sites
 * ({@link NettyNativeToNio}); what that rewrite leaves (a cast, a field of an epoll type) fails with Netty's
 * own message, and {@link #explain} says why.
 */
public final class CopyDefaults {

    /** The property that turns Netty's native transports off. */
    public static final String NETTY_NO_NATIVE = "io.netty.transport.noNative";

    /** The default system properties of every copy. */
    public static final Map<String, String> SYSTEM_PROPERTIES = Map.of(NETTY_NO_NATIVE, "true");

    /** Classes whose presence means the app carries a Netty native transport. */
    private static final Map<String, String> NATIVE_TRANSPORTS = Map.of(
            "io/netty/channel/epoll/Epoll.class", "epoll",
            "io/netty/channel/uring/IoUring.class", "io_uring",
            "io/netty/incubator/channel/uring/IOUring.class", "io_uring (incubator)",
            "io/netty/channel/kqueue/KQueue.class", "kqueue");

    private CopyDefaults() {
    }

    /**
     * Adds the defaults the JVM's own system properties do not set.
     *
     * @param properties a copy's properties, changed in place
     * @return {@code properties}
     */
    static Properties apply(Properties properties) {
        SYSTEM_PROPERTIES.forEach((name, value) -> {
            if (System.getProperty(name) == null) {
                properties.setProperty(name, value);
            }
        });
        return properties;
    }

    /**
     * The Netty native transports an app carries on its class path.
     *
     * @param classPath the app's jars (folders are looked into too)
     * @return their names, empty when none
     */
    public static List<String> nativeTransports(List<Path> classPath) {
        List<String> found = new ArrayList<>();
        for (Path entry : classPath) {
            if (Files.isDirectory(entry)) {
                NATIVE_TRANSPORTS.forEach((cls, name) -> {
                    if (Files.exists(entry.resolve(cls)) && !found.contains(name)) {
                        found.add(name);
                    }
                });
                continue;
            }
            try (JarFile jar = new JarFile(entry.toFile())) {
                NATIVE_TRANSPORTS.forEach((cls, name) -> {
                    if (jar.getEntry(cls) != null && !found.contains(name)) {
                        found.add(name);
                    }
                });
            } catch (IOException unreadable) {
                // the loader reports a jar it cannot open
            }
        }
        return found;
    }

    /**
     * Why a copy failed, when the failure came from a native transport that the defaults turned off.
     *
     * @param cause what escaped the copy
     * @return a sentence to put before Netty's own message, or {@code null} when the failure is another
     */
    public static String explain(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains(NETTY_NO_NATIVE)) {
                return "the app asks for a Netty native transport (epoll/io_uring/kqueue) itself, which Forkless"
                        + " turns off in every copy (" + NETTY_NO_NATIVE + "=true) because its listening socket"
                        + " would bypass the shared one; its plain call sites (EpollIoHandler.newFactory(),"
                        + " EpollServerSocketChannel.class, new EpollEventLoopGroup(n)) are rewritten to NIO, but"
                        + " this one was not (a cast, a field or an overload of an epoll type): let the app fall"
                        + " back to NIO (e.g. Epoll.isAvailable())";
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }
}
