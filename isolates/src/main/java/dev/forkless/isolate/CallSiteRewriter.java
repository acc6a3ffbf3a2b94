package dev.forkless.isolate;

import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;

/**
 * Rewrites, in each class an isolate defines (and, with {@link ForklessAgent}, each class a loader
 * below an isolate's loader defines), the calls that would reach past the isolate, into calls to
 * {@link dev.forkless.isolate.IsolateHooks}, which answer them for the isolate alone.
 *
 * <p>Each rewritten call passes the calling class as one extra, last argument, so a hook finds its
 * isolate from the caller's loader without walking the stack. The table of redirected calls is
 * {@link Redirect#ALL}: data, one line a call.
 *
 * <p>It also starts each handler that can catch an {@code OutOfMemoryError} (one of {@link #CATCHES_OOM})
 * with a call to {@code IsolateHooks.caught}: an error the app catches and goes on from still restarts its
 * copy (docs/operations.md).
 *
 * <p>It swaps Netty's native transports for NIO at the app's call sites ({@link NettyNativeToNio}).
 *
 * <p>Most classes do none of these: a scan of the constant pool finds the few that might, and only those
 * are parsed and rewritten (parsing every class costs about a fifth of an isolate's start).
 */
public final class CallSiteRewriter {

    static final ClassDesc HOOKS = ClassDesc.of("dev.forkless.isolate.IsolateHooks");
    static final ClassDesc ISOLATE_SERVER_SOCKET = ClassDesc.of("dev.forkless.isolate.IsolateServerSocket");
    static final ClassDesc CLASS = ClassDesc.of("java.lang.Class");
    private static final String SERVER_SOCKET = "java/net/ServerSocket";
    /**
     * The catch types of the handlers that get {@code IsolateHooks.caught}: those that catch an
     * {@code OutOfMemoryError} the JVM throws (a catch-all, {@code finally}, rethrows: not these).
     */
    static final java.util.Set<String> CATCHES_OOM = java.util.Set.of(
            "java/lang/Throwable", "java/lang/Error", "java/lang/VirtualMachineError", "java/lang/OutOfMemoryError");

    static final ClassDesc CANCELLATION = ClassDesc.of("dev.forkless.isolate.Cancellation");
    private static final java.lang.constant.DynamicConstantDesc<?> CANCELLATION_CONSTANT =
            java.lang.constant.DynamicConstantDesc.ofNamed(
                    java.lang.constant.MethodHandleDesc.ofMethod(java.lang.constant.DirectMethodHandleDesc.Kind.STATIC,
                            HOOKS, "cancellation", MethodTypeDesc.of(CANCELLATION,
                                    java.lang.constant.ConstantDescs.CD_MethodHandles_Lookup,
                                    java.lang.constant.ConstantDescs.CD_String, java.lang.constant.ConstantDescs.CD_Class)),
                    "cancellation", CANCELLATION);
    /** Class file version 55 (Java 11) is the first with dynamic constants. */
    private static final int CONDY_VERSION = 55;

    private final boolean loopChecks;
    private final RewriteCache cache = new RewriteCache(RewriteCache.DEFAULT_MAX_BYTES);

    /** Creates a rewriter for the standard table of redirects, without loop checks. */
    public CallSiteRewriter() {
        this(false);
    }

    /**
     * Creates a rewriter.
     *
     * @param loopChecks whether to insert a {@link Cancellation} poll before every backward branch of
     *                   every class, so that loops of app code end when their isolate is unloaded; this
     *                   rewrites every class, not only those calling a redirected method
     */
    public CallSiteRewriter(boolean loopChecks) {
        this.loopChecks = loopChecks;
    }

    /** @return whether loop checks are inserted */
    public boolean loopChecks() {
        return loopChecks;
    }

    /**
     * One redirected call: {@code owner.name(descriptor)} becomes {@code IsolateHooks.hook(...)}, whose
     * parameters are the receiver (for an instance method), the original arguments and the caller.
     *
     * @param owner      internal name of the class declaring the method
     * @param name       method name
     * @param descriptor method descriptor
     * @param isStatic   whether it is a static method
     * @param hook       the name of the hook method
     */
    record Redirect(String owner, String name, String descriptor, boolean isStatic, String hook) {

        static final List<Redirect> ALL = List.of(
                new Redirect("java/lang/System", "exit", "(I)V", true, "exit"),
                new Redirect("java/lang/Runtime", "exit", "(I)V", false, "runtimeExit"),
                new Redirect("java/lang/System", "getenv", "(Ljava/lang/String;)Ljava/lang/String;", true, "getenv"),
                new Redirect("java/lang/System", "getenv", "()Ljava/util/Map;", true, "getenv"),
                new Redirect("java/lang/Runtime", "halt", "(I)V", false, "runtimeHalt"),
                new Redirect("java/lang/Runtime", "addShutdownHook", "(Ljava/lang/Thread;)V", false, "addShutdownHook"),
                new Redirect("java/lang/Runtime", "removeShutdownHook", "(Ljava/lang/Thread;)Z", false, "removeShutdownHook"),
                new Redirect("java/nio/channels/ServerSocketChannel", "open",
                        "()Ljava/nio/channels/ServerSocketChannel;", true, "openServerSocketChannel"),
                new Redirect("java/nio/channels/ServerSocketChannel", "open",
                        "(Ljava/net/ProtocolFamily;)Ljava/nio/channels/ServerSocketChannel;", true, "openServerSocketChannel"),
                new Redirect("java/nio/channels/spi/SelectorProvider", "openServerSocketChannel",
                        "()Ljava/nio/channels/ServerSocketChannel;", false, "openServerSocketChannel"),
                new Redirect("java/nio/channels/spi/SelectorProvider", "openServerSocketChannel",
                        "(Ljava/net/ProtocolFamily;)Ljava/nio/channels/ServerSocketChannel;", false, "openServerSocketChannel"),
                // a connection to the copy's own port reaches the copy (Tomcat wakes its acceptor so when it stops)
                new Redirect("java/net/Socket", "connect", "(Ljava/net/SocketAddress;I)V", false, "connectSocket"),
                new Redirect("java/net/Socket", "connect", "(Ljava/net/SocketAddress;)V", false, "connectSocket"),
                new Redirect("java/lang/Thread", "setDefaultUncaughtExceptionHandler",
                        "(Ljava/lang/Thread$UncaughtExceptionHandler;)V", true, "setDefaultUncaughtExceptionHandler"),
                new Redirect("java/lang/Thread", "getDefaultUncaughtExceptionHandler",
                        "()Ljava/lang/Thread$UncaughtExceptionHandler;", true, "getDefaultUncaughtExceptionHandler"),
                // the console: a copy that replaces System.out replaces its own
                new Redirect("java/lang/System", "setOut", "(Ljava/io/PrintStream;)V", true, "setOut"),
                new Redirect("java/lang/System", "setErr", "(Ljava/io/PrintStream;)V", true, "setErr"),
                // system properties: each copy has its own, as a JVM would
                new Redirect("java/lang/System", "getProperty", "(Ljava/lang/String;)Ljava/lang/String;", true, "getProperty"),
                new Redirect("java/lang/System", "getProperty",
                        "(Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;", true, "getProperty"),
                new Redirect("java/lang/System", "setProperty",
                        "(Ljava/lang/String;Ljava/lang/String;)Ljava/lang/String;", true, "setProperty"),
                new Redirect("java/lang/System", "clearProperty", "(Ljava/lang/String;)Ljava/lang/String;", true, "clearProperty"),
                new Redirect("java/lang/System", "getProperties", "()Ljava/util/Properties;", true, "getProperties"),
                new Redirect("java/lang/System", "setProperties", "(Ljava/util/Properties;)V", true, "setProperties"),
                new Redirect("java/lang/Boolean", "getBoolean", "(Ljava/lang/String;)Z", true, "getBoolean"),
                new Redirect("java/lang/Integer", "getInteger", "(Ljava/lang/String;)Ljava/lang/Integer;", true, "getInteger"),
                new Redirect("java/lang/Integer", "getInteger", "(Ljava/lang/String;I)Ljava/lang/Integer;", true, "getInteger"),
                new Redirect("java/lang/Long", "getLong", "(Ljava/lang/String;)Ljava/lang/Long;", true, "getLong"),
                new Redirect("java/lang/Long", "getLong", "(Ljava/lang/String;J)Ljava/lang/Long;", true, "getLong"),
                // the system class loader as the app sees it: its copy's loader (Quarkus' runner loader's parent)
                new Redirect("java/lang/ClassLoader", "getSystemClassLoader", "()Ljava/lang/ClassLoader;", true,
                        "getSystemClassLoader"),
                new Redirect("java/lang/ClassLoader", "getSystemResource", "(Ljava/lang/String;)Ljava/net/URL;", true,
                        "getSystemResource"),
                new Redirect("java/lang/ClassLoader", "getSystemResources", "(Ljava/lang/String;)Ljava/util/Enumeration;",
                        true, "getSystemResources"),
                new Redirect("java/lang/ClassLoader", "getSystemResourceAsStream",
                        "(Ljava/lang/String;)Ljava/io/InputStream;", true, "getSystemResourceAsStream"),
                // URL protocol handlers: each copy its own factory (Spring Boot's launcher resets it with null)
                new Redirect("java/net/URL", "setURLStreamHandlerFactory", "(Ljava/net/URLStreamHandlerFactory;)V", true,
                        "setURLStreamHandlerFactory"),
                // zip file systems by URI: each copy its own (the JDK keeps one per archive for the JVM)
                new Redirect("java/nio/file/FileSystems", "newFileSystem",
                        "(Ljava/net/URI;Ljava/util/Map;)Ljava/nio/file/FileSystem;", true, "newFileSystem"),
                new Redirect("java/nio/file/FileSystems", "newFileSystem",
                        "(Ljava/net/URI;Ljava/util/Map;Ljava/lang/ClassLoader;)Ljava/nio/file/FileSystem;", true, "newFileSystem"),
                new Redirect("java/nio/file/FileSystems", "getFileSystem", "(Ljava/net/URI;)Ljava/nio/file/FileSystem;", true,
                        "getFileSystem"),
                new Redirect("java/nio/file/Path", "of", "(Ljava/net/URI;)Ljava/nio/file/Path;", true, "pathOf"),
                new Redirect("java/nio/file/Paths", "get", "(Ljava/net/URI;)Ljava/nio/file/Path;", true, "pathOf"),
                // the JVM-wide deserialization filter: each copy sets its own (Helidon sets one at start)
                new Redirect("java/io/ObjectInputFilter$Config", "setSerialFilter", "(Ljava/io/ObjectInputFilter;)V", true,
                        "setSerialFilter"),
                new Redirect("java/io/ObjectInputFilter$Config", "getSerialFilter", "()Ljava/io/ObjectInputFilter;", true,
                        "getSerialFilter"));

        MethodTypeDesc hookType() {
            MethodTypeDesc type = MethodTypeDesc.ofDescriptor(descriptor);
            if (!isStatic) {
                type = type.insertParameterTypes(0, ClassDesc.ofInternalName(owner));
            }
            return type.insertParameterTypes(type.parameterCount(), CLASS);
        }

        boolean matches(InvokeInstruction call) {
            return call.owner().asInternalName().equals(owner)
                    && call.name().equalsString(name)
                    && call.type().equalsString(descriptor)
                    && (call.opcode() == Opcode.INVOKESTATIC) == isStatic;
        }
    }

    /**
     * Rewrites one class.
     *
     * @param bytes     the class file
     * @param hierarchy the class bytes visible to the isolate, by class, for stack map generation
     * @return the rewritten class file, or {@code bytes} itself when it calls nothing redirected
     */
    public byte[] rewrite(byte[] bytes, Function<ClassDesc, InputStream> hierarchy) {
        if (!loopChecks && !ConstantPoolScan.callsAny(bytes) && !namesNettyNative(bytes)) {
            return bytes;
        }
        ClassHierarchyResolver strict = ClassHierarchyResolver.ofResourceParsing(hierarchy).cached();
        try {
            return transform(bytes, strict);
        } catch (IllegalArgumentException unresolved) {
            // A type the class merges at a branch is not on the app's class path (an optional
            // dependency): treat unknown types as interfaces, as the verifier will if it ever runs that code.
            ClassHierarchyResolver lenient = strict.orElse(desc -> ClassHierarchyResolver.ClassHierarchyInfo.ofInterface());
            return transform(bytes, lenient);
        }
    }

    /**
     * Rewrites one class of a known class path version, reusing what an earlier copy's rewrite of the same
     * class from the same jars produced (see {@link RewriteCache}).
     *
     * @param version    the class path's version, {@code null} when unknown (not cached)
     * @param loaderKind the defining loader's kind
     * @param className  the class's name
     * @param bytes      the class file
     * @param hierarchy  the class bytes visible to the isolate, by class, for stack map generation
     * @return the rewritten class file, or {@code bytes} itself when it calls nothing redirected
     */
    byte[] rewrite(String version, String loaderKind, String className, byte[] bytes,
                   Function<ClassDesc, InputStream> hierarchy) {
        if (!loopChecks && !ConstantPoolScan.callsAny(bytes) && NettyNativeToNio.transportNamed(className, bytes) == null) {
            return bytes;
        }
        return cache.rewritten(version, loaderKind, className, bytes, () -> rewrite(bytes, hierarchy));
    }

    /** @return whether the class may name a Netty native transport (its own name is checked after parsing) */
    private static boolean namesNettyNative(byte[] bytes) {
        return NettyNativeToNio.transportNamed("", bytes) != null;
    }

    private byte[] transform(byte[] bytes, ClassHierarchyResolver resolver) {
        if (namesNettyNative(bytes)) {
            bytes = NettyNativeToNio.rewrite(bytes, resolver);
            if (!loopChecks && !ConstantPoolScan.callsAny(bytes)) {
                return bytes;
            }
        }
        ClassFile classFile = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(resolver));
        ClassModel model = classFile.parse(bytes);
        ClassDesc self = model.thisClass().asSymbol();
        boolean condy = model.majorVersion() >= CONDY_VERSION;
        // only the methods that change are rebuilt: a rebuilt method's stack maps are computed again (a data
        // flow analysis, most of a rewrite's cost), and with loop checks most methods have no loop
        java.util.Set<java.lang.classfile.MethodModel> changing = java.util.Collections.newSetFromMap(
                new java.util.IdentityHashMap<>());
        for (java.lang.classfile.MethodModel method : model.methods()) {
            if (method.code().isPresent() && changes(method.code().get(), loopChecks)) {
                changing.add(method);
            }
        }
        if (changing.isEmpty()) {
            return bytes;
        }
        return classFile.transformClass(model, (builder, element) -> {
            if (element instanceof java.lang.classfile.MethodModel method && changing.contains(method)) {
                builder.transformMethod(method, java.lang.classfile.MethodTransform.transformingCode(
                        CodeTransform.ofStateful(() -> new Rewrite(self, loopChecks, condy))));
            } else {
                builder.with(element);
            }
        });
    }

    /**
     * Whether {@link Rewrite} would change a method body: a backward branch (with loop checks), a call it
     * redirects, a {@code new ServerSocket}, a handler that may catch an {@code OutOfMemoryError}.
     */
    static boolean changes(java.lang.classfile.CodeModel code, boolean loopChecks) {
        java.util.Set<java.lang.classfile.Label> bound = loopChecks ? new java.util.HashSet<>() : null;
        for (CodeElement element : code) {
            switch (element) {
                case java.lang.classfile.instruction.LabelTarget target -> {
                    if (bound != null) {
                        bound.add(target.label());
                    }
                }
                case java.lang.classfile.instruction.ExceptionCatch c -> {
                    if (c.catchType().map(t -> CATCHES_OOM.contains(t.asInternalName())).orElse(false)) {
                        return true;
                    }
                }
                case NewObjectInstruction n -> {
                    if (n.className().asInternalName().equals(SERVER_SOCKET)) {
                        return true;
                    }
                }
                case InvokeInstruction call -> {
                    if (Rewrite.redirectFor(call) != null) {
                        return true;
                    }
                }
                default -> {
                    if (bound != null && Rewrite.backward(element, bound)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The rewrite of one method body. */
    private static final class Rewrite implements CodeTransform {

        private final ClassDesc self;
        private final boolean loopChecks;
        private final boolean condy;
        /** Labels already bound in this method: a branch to one of them goes backward. */
        private final java.util.Set<java.lang.classfile.Label> bound = new java.util.HashSet<>();
        /** Rewritten {@code new ServerSocket} instructions whose constructor call is still to come. */
        private int pendingServerSockets;
        /** Handlers of this method that catch {@code OutOfMemoryError} among others (see {@link #CATCHES_OOM}). */
        private final java.util.Set<java.lang.classfile.Label> oomHandlers = new java.util.HashSet<>();

        Rewrite(ClassDesc self, boolean loopChecks, boolean condy) {
            this.self = self;
            this.loopChecks = loopChecks;
            this.condy = condy;
        }

        private void poll(CodeBuilder code) {
            if (condy) {
                code.ldc(CANCELLATION_CONSTANT);
                code.invokevirtual(CANCELLATION, "poll", MethodTypeDesc.of(java.lang.constant.ConstantDescs.CD_void));
            } else {
                code.ldc(self);
                code.invokestatic(HOOKS, "poll", MethodTypeDesc.of(java.lang.constant.ConstantDescs.CD_void, CLASS));
            }
        }

        private boolean backward(CodeElement element) {
            return backward(element, bound);
        }

        static boolean backward(CodeElement element, java.util.Set<java.lang.classfile.Label> bound) {
            return switch (element) {
                case java.lang.classfile.instruction.BranchInstruction b -> bound.contains(b.target());
                case java.lang.classfile.instruction.TableSwitchInstruction t -> bound.contains(t.defaultTarget())
                        || t.cases().stream().anyMatch(c -> bound.contains(c.target()));
                case java.lang.classfile.instruction.LookupSwitchInstruction l -> bound.contains(l.defaultTarget())
                        || l.cases().stream().anyMatch(c -> bound.contains(c.target()));
                default -> false;
            };
        }

        @Override
        public void accept(CodeBuilder code, CodeElement element) {
            if (loopChecks) {
                if (element instanceof java.lang.classfile.instruction.LabelTarget target) {
                    bound.add(target.label());
                } else if (backward(element)) {
                    poll(code);
                }
            }
            switch (element) {
                case java.lang.classfile.instruction.ExceptionCatch c -> {
                    if (c.catchType().map(t -> CATCHES_OOM.contains(t.asInternalName())).orElse(false)) {
                        oomHandlers.add(c.handler());
                    }
                    code.with(element);
                }
                case java.lang.classfile.instruction.LabelTarget target when oomHandlers.contains(target.label()) -> {
                    // the caught exception is on the stack: the hook looks at it and leaves it there
                    code.with(element);
                    code.dup();
                    code.ldc(self);
                    code.invokestatic(HOOKS, "caught", MethodTypeDesc.of(java.lang.constant.ConstantDescs.CD_void,
                            ClassDesc.of("java.lang.Throwable"), CLASS));
                }
                case NewObjectInstruction n when n.className().asInternalName().equals(SERVER_SOCKET) -> {
                    pendingServerSockets++;
                    code.new_(ISOLATE_SERVER_SOCKET);
                }
                case InvokeInstruction call when call.opcode() == Opcode.INVOKESPECIAL
                        && pendingServerSockets > 0
                        && call.owner().asInternalName().equals(SERVER_SOCKET)
                        && call.name().equalsString("<init>") -> {
                    pendingServerSockets--;
                    MethodTypeDesc type = call.typeSymbol();
                    code.ldc(self);
                    code.invokespecial(ISOLATE_SERVER_SOCKET, "<init>",
                            type.insertParameterTypes(type.parameterCount(), CLASS));
                }
                case InvokeInstruction call -> {
                    Redirect redirect = redirectFor(call);
                    if (redirect == null) {
                        code.with(element);
                    } else {
                        code.ldc(self);
                        code.invokestatic(HOOKS, redirect.hook(), redirect.hookType());
                    }
                }
                default -> code.with(element);
            }
        }

        private static Redirect redirectFor(InvokeInstruction call) {
            for (Redirect redirect : Redirect.ALL) {
                if (redirect.matches(call)) {
                    return redirect;
                }
            }
            return null;
        }
    }

    /**
     * A scan of a class file's constant pool for references to redirected methods, without parsing the
     * class.
     */
    static final class ConstantPoolScan {

        private static final byte[][] OWNERS;
        private static final byte[][] NAMES;
        private static final byte[][] CATCH_TYPES = CATCHES_OOM.stream()
                .map(s -> s.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);

        static {
            var owners = new java.util.LinkedHashSet<String>();
            var names = new java.util.LinkedHashSet<String>();
            for (Redirect r : Redirect.ALL) {
                owners.add(r.owner());
                names.add(r.name());
            }
            owners.add(SERVER_SOCKET);
            names.add("<init>");
            OWNERS = owners.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
            NAMES = names.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
        }

        private ConstantPoolScan() {
        }

        /**
         * @return whether the class refers to a method of a redirected owner with a redirected name, or to
         *         a class one of its handlers may catch an {@code OutOfMemoryError} as
         */
        static boolean callsAny(byte[] b) {
            if (b.length < 10) {
                return true; // let the parser report the malformed class
            }
            int count = u2(b, 8);
            int[] offsets = new int[count];
            byte[] tags = new byte[count];
            int pos = 10;
            try {
                for (int i = 1; i < count; i++) {
                    byte tag = b[pos];
                    tags[i] = tag;
                    offsets[i] = pos + 1;
                    pos += switch (tag) {
                        case 1 -> 3 + u2(b, pos + 1);
                        case 3, 4, 9, 10, 11, 12, 17, 18 -> 5;
                        case 5, 6 -> 9;
                        case 7, 8, 16, 19, 20 -> 3;
                        case 15 -> 4;
                        default -> throw new IllegalStateException("bad constant pool tag " + tag);
                    };
                    if (tag == 5 || tag == 6) {
                        i++;
                    }
                }
                for (int i = 1; i < count; i++) {
                    if (tags[i] == 7 && utf8In(b, offsets[u2(b, offsets[i])], CATCH_TYPES)) {
                        return true; // may catch an OutOfMemoryError
                    }
                    if (tags[i] == 10 || tags[i] == 11) {
                        int classIndex = u2(b, offsets[i]);
                        int nameAndType = u2(b, offsets[i] + 2);
                        int ownerUtf8 = u2(b, offsets[classIndex]);
                        int nameUtf8 = u2(b, offsets[nameAndType]);
                        if (utf8In(b, offsets[ownerUtf8], OWNERS) && utf8In(b, offsets[nameUtf8], NAMES)) {
                            return true;
                        }
                    }
                }
                return false;
            } catch (RuntimeException malformed) {
                return true; // let the parser report it
            }
        }

        private static boolean utf8In(byte[] b, int offset, byte[][] candidates) {
            int length = u2(b, offset);
            outer:
            for (byte[] candidate : candidates) {
                if (candidate.length != length) {
                    continue;
                }
                for (int i = 0; i < length; i++) {
                    if (b[offset + 2 + i] != candidate[i]) {
                        continue outer;
                    }
                }
                return true;
            }
            return false;
        }

        private static int u2(byte[] b, int offset) {
            return ((b[offset] & 0xff) << 8) | (b[offset + 1] & 0xff);
        }
    }
}
