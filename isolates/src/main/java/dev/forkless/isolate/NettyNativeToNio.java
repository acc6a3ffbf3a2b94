package dev.forkless.isolate;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeModel;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.constantpool.ClassEntry;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Swaps Netty's native transports (epoll, io_uring) for NIO at the app's call sites: in a class the
 * app's loaders define (not Netty's own), {@code EpollIoHandler.newFactory()} becomes
 * {@code NioIoHandler.newFactory()}, {@code EpollServerSocketChannel.class} becomes
 * {@code NioServerSocketChannel.class}, Netty 4.1's {@code new EpollEventLoopGroup(n)} becomes
 * {@code new NioEventLoopGroup(n)}, and the same for io_uring (Netty 4.2's and the incubator's).
 *
 * <p>Why not epoll on the shared socket: an epoll registration belongs to the open file description, which
 * every copy shares, so a draining or standby copy could not be kept from accepting (docs/decisions.md).
 * NIO goes through the copy's {@code SelectorProvider}, which serves the shared socket.
 *
 * <p>What is not rewritten (it fails as without Forkless): an overload whose arguments have no NIO
 * counterpart, a class whose {@code new EpollEventLoopGroup} calls a constructor NIO lacks or whose fields,
 * methods or calls name the group's type (then none of that class's groups are), casts and fields of epoll
 * types. A class that asks {@code Epoll.isAvailable()} (or io_uring's) picks NIO itself and is left as it is. {@code Epoll.isAvailable()} stays as it is: false,
 * as each copy runs with {@code io.netty.transport.noNative=true}.
 *
 * <p>Only classes whose constant pool names one of {@link #CLASSES} are parsed.
 */
public final class NettyNativeToNio {

    private static final String NIO_SERVER = "io/netty/channel/socket/nio/NioServerSocketChannel";
    private static final String NIO_SOCKET = "io/netty/channel/socket/nio/NioSocketChannel";
    private static final String NIO_DATAGRAM = "io/netty/channel/socket/nio/NioDatagramChannel";
    private static final String NIO_GROUP = "io/netty/channel/nio/NioEventLoopGroup";
    private static final ClassDesc NIO_HANDLER = ClassDesc.ofInternalName("io/netty/channel/nio/NioIoHandler");
    private static final ClassDesc IO_HANDLER_FACTORY = ClassDesc.ofInternalName("io/netty/channel/IoHandlerFactory");
    private static final ClassDesc SELECT_STRATEGY_FACTORY = ClassDesc.ofInternalName("io/netty/channel/SelectStrategyFactory");
    private static final ClassDesc SELECTOR_PROVIDER = ClassDesc.of("java.nio.channels.spi.SelectorProvider");

    private static final String EPOLL = "io/netty/channel/epoll/";
    private static final String URING = "io/netty/channel/uring/";
    private static final String URING_INCUBATOR = "io/netty/incubator/channel/uring/";

    /** Class constants ({@code Xxx.class}): native channel class to its NIO counterpart. */
    static final Map<String, String> CLASSES = Map.ofEntries(
            Map.entry(EPOLL + "EpollServerSocketChannel", NIO_SERVER),
            Map.entry(EPOLL + "EpollSocketChannel", NIO_SOCKET),
            Map.entry(EPOLL + "EpollDatagramChannel", NIO_DATAGRAM),
            Map.entry(URING + "IoUringServerSocketChannel", NIO_SERVER),
            Map.entry(URING + "IoUringSocketChannel", NIO_SOCKET),
            Map.entry(URING + "IoUringDatagramChannel", NIO_DATAGRAM),
            Map.entry(URING_INCUBATOR + "IOUringServerSocketChannel", NIO_SERVER),
            Map.entry(URING_INCUBATOR + "IOUringSocketChannel", NIO_SOCKET),
            Map.entry(URING_INCUBATOR + "IOUringDatagramChannel", NIO_DATAGRAM));

    /** Netty 4.1's event loop groups, made with a constructor NIO's group has too. */
    static final Set<String> GROUPS = Set.of(EPOLL + "EpollEventLoopGroup", URING_INCUBATOR + "IOUringEventLoopGroup");
    private static final Set<String> GROUP_CONSTRUCTORS = Set.of("()V", "(I)V", "(Ljava/util/concurrent/ThreadFactory;)V",
            "(ILjava/util/concurrent/ThreadFactory;)V", "(ILjava/util/concurrent/Executor;)V");

    /** Netty 4.2's handler factories ({@code newFactory} overloads), by owner. */
    static final Set<String> HANDLERS = Set.of(EPOLL + "EpollIoHandler", URING + "IoUringIoHandler");

    private static final byte[][] NAMES = java.util.stream.Stream.of(CLASSES.keySet(), GROUPS, HANDLERS)
            .flatMap(Set::stream).map(s -> s.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);

    /**
     * The classes whose {@code isAvailable()} a class that picks its transport itself asks (Vert.x, Reactor
     * Netty): as constant pool entries (tag, length, name), so that only these exact names match.
     */
    private static final byte[][] AVAILABILITY = java.util.stream.Stream.of(EPOLL + "Epoll", URING + "IoUring",
            URING_INCUBATOR + "IOUring").map(NettyNativeToNio::utf8Entry).toArray(byte[][]::new);
    private static final byte[] IS_AVAILABLE = utf8Entry("isAvailable");

    private NettyNativeToNio() {
    }

    /**
     * The cheap check: whether this class is the app's (not Netty's) and names a native transport's class.
     *
     * @param className the class's internal or binary name
     * @param bytes     the class file
     * @return {@code "epoll"}, {@code "io_uring"} or {@code "epoll/io_uring"}: the transports the class names;
     *         {@code null}: neither
     */
    public static String transportNamed(String className, byte[] bytes) {
        if (className == null || className.startsWith("io/netty/") || className.startsWith("io.netty.")) {
            return null;
        }
        if (contains(bytes, IS_AVAILABLE)) {
            for (byte[] owner : AVAILABILITY) {
                if (contains(bytes, owner)) {
                    return null; // it asks whether the transport is there: no (noNative), and it takes NIO itself
                }
            }
        }
        boolean epoll = false;
        boolean uring = false;
        for (byte[] name : NAMES) {
            if (contains(bytes, name)) {
                if (new String(name, StandardCharsets.UTF_8).startsWith(EPOLL)) {
                    epoll = true;
                } else {
                    uring = true;
                }
            }
        }
        return epoll && uring ? "epoll/io_uring" : epoll ? "epoll" : uring ? "io_uring" : null;
    }

    /**
     * Rewrites one class's uses of a native transport to NIO.
     *
     * @param bytes    the class file
     * @param resolver the class hierarchy, for stack maps
     * @return the rewritten class file, or {@code bytes} itself when there was nothing to rewrite
     */
    public static byte[] rewrite(byte[] bytes, ClassHierarchyResolver resolver) {
        ClassFile classFile = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(resolver));
        ClassModel model = classFile.parse(bytes);
        if (transportNamed(model.thisClass().asInternalName(), bytes) == null) {
            return bytes;
        }
        boolean groups = groupsMap(model);
        boolean[] changed = {false};
        byte[] out = classFile.transformClass(model, ClassTransform.transformingMethodBodies(
                CodeTransform.ofStateful(() -> new Rewrite(groups, changed))));
        return changed[0] ? out : bytes;
    }

    /**
     * @return whether every {@code new EpollEventLoopGroup(...)} of the class has a NIO constructor, and no
     *         field, method or call of the class has a group type in its descriptor (a NIO group there would
     *         not verify): locals are fine, their types are inferred anew
     */
    private static boolean groupsMap(ClassModel model) {
        if (model.fields().stream().anyMatch(f -> namesGroup(f.fieldType().stringValue()))) {
            return false;
        }
        for (MethodModel method : model.methods()) {
            if (namesGroup(method.methodType().stringValue())) {
                return false;
            }
            for (CodeModel code : method.code().stream().toList()) {
                for (CodeElement e : code) {
                    boolean unmappable = switch (e) {
                        case InvokeInstruction call when GROUPS.contains(call.owner().asInternalName()) ->
                                call.name().equalsString("<init>") && !GROUP_CONSTRUCTORS.contains(call.type().stringValue());
                        case InvokeInstruction call -> namesGroup(call.type().stringValue());
                        case java.lang.classfile.instruction.FieldInstruction field -> namesGroup(field.type().stringValue());
                        default -> false;
                    };
                    if (unmappable) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static boolean namesGroup(String descriptor) {
        return GROUPS.stream().anyMatch(group -> descriptor.contains("L" + group + ";"));
    }

    private static byte[] utf8Entry(String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        byte[] entry = new byte[utf8.length + 3];
        entry[0] = 1;
        entry[1] = (byte) (utf8.length >> 8);
        entry[2] = (byte) utf8.length;
        System.arraycopy(utf8, 0, entry, 3, utf8.length);
        return entry;
    }

    /** The rewrite of one method body. */
    private static final class Rewrite implements CodeTransform {
        private final boolean groups;
        private final boolean[] changed;

        Rewrite(boolean groups, boolean[] changed) {
            this.groups = groups;
            this.changed = changed;
        }

        @Override
        public void accept(CodeBuilder code, CodeElement element) {
            switch (element) {
                case ConstantInstruction.LoadConstantInstruction ldc
                        when ldc.constantEntry() instanceof ClassEntry c && CLASSES.containsKey(c.asInternalName()) -> {
                    changed[0] = true;
                    code.ldc(ClassDesc.ofInternalName(CLASSES.get(c.asInternalName())));
                }
                case NewObjectInstruction n when groups && GROUPS.contains(n.className().asInternalName()) -> {
                    changed[0] = true;
                    code.new_(ClassDesc.ofInternalName(NIO_GROUP));
                }
                case InvokeInstruction call when groups && GROUPS.contains(call.owner().asInternalName())
                        && call.opcode() != Opcode.INVOKESTATIC -> {
                    // the constructor, and the group's methods (NIO's group has the same: setIoRatio, rebuildSelectors…)
                    changed[0] = true;
                    code.invoke(call.opcode(), ClassDesc.ofInternalName(NIO_GROUP), call.name().stringValue(), call.typeSymbol(), false);
                }
                case InvokeInstruction call when call.opcode() == Opcode.INVOKESTATIC
                        && HANDLERS.contains(call.owner().asInternalName()) && call.name().equalsString("newFactory")
                        -> {
                    if (factory(code, call.type().stringValue())) {
                        changed[0] = true;
                    } else {
                        code.with(element); // no NIO counterpart: it fails as without Forkless
                    }
                }
                default -> code.with(element);
            }
        }

        /**
         * Emits the NIO factory for one {@code newFactory} overload, its arguments on the stack.
         *
         * @return whether the overload maps (else nothing was emitted)
         */
        private static boolean factory(CodeBuilder code, String descriptor) {
            MethodTypeDesc nio;
            switch (descriptor) {
                case "()Lio/netty/channel/IoHandlerFactory;" -> nio = MethodTypeDesc.of(IO_HANDLER_FACTORY);
                case "(I)Lio/netty/channel/IoHandlerFactory;" -> {
                    code.pop();
                    nio = MethodTypeDesc.of(IO_HANDLER_FACTORY);
                }
                case "(ILio/netty/channel/SelectStrategyFactory;)Lio/netty/channel/IoHandlerFactory;" -> {
                    // int, strategy -> provider, strategy
                    code.swap().pop();
                    code.invokestatic(SELECTOR_PROVIDER, "provider", MethodTypeDesc.of(SELECTOR_PROVIDER));
                    code.swap();
                    nio = MethodTypeDesc.of(IO_HANDLER_FACTORY, SELECTOR_PROVIDER, SELECT_STRATEGY_FACTORY);
                }
                case "(Lio/netty/channel/uring/IoUringIoHandlerConfig;)Lio/netty/channel/IoHandlerFactory;" -> {
                    code.pop();
                    nio = MethodTypeDesc.of(IO_HANDLER_FACTORY);
                }
                default -> {
                    return false;
                }
            }
            code.invokestatic(NIO_HANDLER, "newFactory", nio);
            return true;
        }
    }

    private static boolean contains(byte[] bytes, byte[] name) {
        outer:
        for (int i = 0, last = bytes.length - name.length; i <= last; i++) {
            for (int j = 0; j < name.length; j++) {
                if (bytes[i + j] != name[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** @return the message said once per copy whose code names a native transport */
    public static String message(String copy, String transport, String className) {
        return "forkless " + copy + ": the app asks for Netty's native " + transport + " transport (in "
                + className.replace('/', '.') + "); it runs on NIO, which serves the shared socket";
    }

    /** @return the internal names this rewrite maps (for tests) */
    static List<String> mapped() {
        return java.util.stream.Stream.of(CLASSES.keySet(), GROUPS, HANDLERS).flatMap(Set::stream).sorted().toList();
    }
}
