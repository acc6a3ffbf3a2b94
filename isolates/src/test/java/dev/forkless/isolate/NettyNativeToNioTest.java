package dev.forkless.isolate;

import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.instruction.TypeCheckInstruction;
import java.util.concurrent.ThreadFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The app's calls to Netty's epoll transport, rewritten to NIO and run against Netty's own jars. */
class NettyNativeToNioTest {

    private static final java.lang.classfile.ClassHierarchyResolver RESOLVER = java.lang.classfile.ClassHierarchyResolver
            .defaultResolver().orElse(java.lang.classfile.ClassHierarchyResolver.ofResourceParsing(ClassLoader.getSystemClassLoader()));

    /** An app's code that hard-codes epoll, as examples/netty does with {@code --epoll}. */
    public static final class EpollApp {
        public static Object factory() {
            return EpollIoHandler.newFactory();
        }

        public static Object factoryWithStrategy() {
            return EpollIoHandler.newFactory(16, DefaultSelectStrategyFactory.INSTANCE);
        }

        public static Class<?> serverChannel() {
            return EpollServerSocketChannel.class;
        }

        public static Class<?> socketChannel() {
            return EpollSocketChannel.class;
        }

        public static Class<?> datagramChannel() {
            return EpollDatagramChannel.class;
        }

        /** Netty 4.1's style: a group of the transport's own, kept in a local of its type. */
        public static String group() {
            EpollEventLoopGroup group = new EpollEventLoopGroup(1);
            group.setIoRatio(60);
            String name = group.getClass().getName();
            group.shutdownGracefully();
            return name;
        }

        /** A cast to an epoll type: left as it is. */
        public static Object cast(Object channel) {
            return (EpollServerSocketChannel) channel;
        }
    }

    /** A group made with a constructor NIO's group lacks: the class's groups are left as they are. */
    public static final class UnmappableGroup {
        public static EventLoopGroup group(ThreadFactory threads) {
            return new EpollEventLoopGroup(1, threads, 8);
        }
    }

    /** A class that picks its transport itself (as Vert.x and Reactor Netty do): left as it is. */
    public static final class PicksItself {
        public static Class<?> serverChannel() {
            return io.netty.channel.epoll.Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        }
    }

    /** A group kept in a field of its own type: a NIO group there would not verify, so left as it is. */
    public static final class GroupField {
        public static EpollEventLoopGroup group;

        public static void make() {
            group = new EpollEventLoopGroup(1);
        }
    }

    private static byte[] bytes(Class<?> type) throws IOException {
        try (InputStream in = type.getResourceAsStream(type.getName().substring(type.getName().lastIndexOf('.') + 1) + ".class")) {
            return in.readAllBytes();
        }
    }

    private static byte[] rewrite(Class<?> type) throws IOException {
        return new CallSiteRewriter().rewrite(bytes(type),
                desc -> ClassLoader.getSystemResourceAsStream(desc.descriptorString()
                        .substring(1, desc.descriptorString().length() - 1) + ".class"));
    }

    /** Defines the rewritten class anew, below the test's loader (which has Netty). */
    private static Class<?> define(Class<?> type, byte[] bytes) {
        return new ClassLoader(NettyNativeToNioTest.class.getClassLoader()) {
            Class<?> define() {
                return defineClass(type.getName(), bytes, 0, bytes.length);
            }
        }.define();
    }

    private static Object call(Class<?> type, String method) throws ReflectiveOperationException {
        return type.getMethod(method).invoke(null);
    }

    @Test
    void theAppsEpollCallSitesRunOnNio() throws Exception {
        Class<?> app = define(EpollApp.class, rewrite(EpollApp.class));
        Object factory = call(app, "factory");
        assertTrue(factory.getClass().getName().startsWith(NioIoHandler.class.getName()), () -> "factory: " + factory);
        assertTrue(app.getMethod("factoryWithStrategy").invoke(null).getClass().getName()
                .startsWith(NioIoHandler.class.getName()));
        assertSame(NioServerSocketChannel.class, call(app, "serverChannel"));
        assertSame(NioSocketChannel.class, call(app, "socketChannel"));
        assertSame(NioDatagramChannel.class, call(app, "datagramChannel"));
        assertEquals(NioEventLoopGroup.class.getName(), call(app, "group"));
    }

    @Test
    void castsToEpollTypesAreLeft() throws IOException {
        var casts = ClassFile.of().parse(rewrite(EpollApp.class)).methods().stream()
                .filter(m -> m.methodName().equalsString("cast"))
                .flatMap(m -> m.code().orElseThrow().elementStream())
                .filter(e -> e instanceof TypeCheckInstruction)
                .map(e -> ((TypeCheckInstruction) e).type().asInternalName()).toList();
        assertEquals(java.util.List.of("io/netty/channel/epoll/EpollServerSocketChannel"), casts);
    }

    @Test
    void aGroupWithoutANioConstructorIsLeft() throws IOException {
        byte[] original = bytes(UnmappableGroup.class);
        assertSame(original, NettyNativeToNio.rewrite(original, RESOLVER));
    }

    @Test
    void aClassThatAsksIsAvailableIsLeft() throws IOException {
        byte[] original = bytes(PicksItself.class);
        assertNull(NettyNativeToNio.transportNamed(PicksItself.class.getName(), original));
        assertSame(original, NettyNativeToNio.rewrite(original, RESOLVER));
    }

    @Test
    void aGroupInAFieldOfItsTypeIsLeft() throws IOException {
        byte[] original = bytes(GroupField.class);
        assertEquals("epoll", NettyNativeToNio.transportNamed(GroupField.class.getName(), original));
        assertSame(original, NettyNativeToNio.rewrite(original, RESOLVER));
    }

    @Test
    void nettysOwnClassesAreNotRewritten() throws IOException {
        byte[] app = bytes(EpollApp.class);
        assertEquals("epoll", NettyNativeToNio.transportNamed(EpollApp.class.getName(), app));
        assertNull(NettyNativeToNio.transportNamed("io/netty/channel/epoll/Epoll", app));
        assertNull(NettyNativeToNio.transportNamed("io.netty.channel.epoll.Epoll", app));
        assertNull(NettyNativeToNio.transportNamed(NettyNativeToNioTest.class.getName(), bytes(CatchHookTest.class)));
        byte[] netty = bytes(EpollServerSocketChannel.class);
        assertSame(netty, NettyNativeToNio.rewrite(netty, RESOLVER), "Netty's own epoll channel is left as it is");
        assertFalse(NettyNativeToNio.mapped().isEmpty());
    }
}
