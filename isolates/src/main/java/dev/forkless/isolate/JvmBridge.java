package dev.forkless.isolate;

import java.lang.classfile.ClassFile;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.AccessFlag;
import java.net.URLStreamHandler;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * The one place {@code java.base} calls into Forkless: the class {@value #NAME}, which the agent defines in
 * {@code java.base} itself (package {@code java.lang}, through a lookup on {@link Runtime}), so that
 * {@code Runtime.exit}, {@code Runtime.halt} and {@code URL.getURLStreamHandler}, once rewritten, can
 * call it. It refers to nothing but {@code java.base}; it is generated here, not compiled, because no
 * class of that name exists at compile time. Defining it in {@code java.base} rather than appending a
 * jar to the boot class path keeps class data sharing on (an appended boot class path turns it off for
 * every class outside the boot loader, with a JVM warning on every start).
 *
 * <p>Its four hooks, set once by {@link #install}, are THE exception to "no mutable static state in the
 * runtime": the JDK methods they serve are JVM-wide, so the only way for them to reach the isolates is a
 * JVM-wide reference. Without the agent, nothing defines the class and nothing calls it.
 */
final class JvmBridge {

    /** The bridge's class name. */
    static final String NAME = "java.lang.ForklessBridge";
    static final ClassDesc DESC = ClassDesc.of(NAME);
    private static final ClassDesc INT_CONSUMER = ClassDesc.of(IntConsumer.class.getName());
    private static final ClassDesc FUNCTION = ClassDesc.of(Function.class.getName());
    private static final ClassDesc URL_STREAM_HANDLER = ClassDesc.of(URLStreamHandler.class.getName());
    private static final ClassDesc SUPPLIER = ClassDesc.of(Supplier.class.getName());
    private static final ClassDesc CLASS_LOADER = ClassDesc.of(ClassLoader.class.getName());
    static final MethodTypeDesc LOADER_TYPE = MethodTypeDesc.of(CLASS_LOADER);
    static final MethodTypeDesc EXIT_TYPE = MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_int);
    static final MethodTypeDesc URL_TYPE = MethodTypeDesc.of(URL_STREAM_HANDLER, ConstantDescs.CD_String);

    private JvmBridge() {
    }

    /**
     * Defines the bridge in {@code java.base} and installs the hooks.
     *
     * @param exit      {@code Runtime.exit(status)}: returns when the call belongs to no isolate
     * @param halt      {@code Runtime.halt(status)}: likewise
     * @param urlHandler the calling copy's handler for a protocol, or {@code null}
     * @param systemLoader the system class loader as the calling copy sees it (its loader), or {@code null}
     * @throws ReflectiveOperationException when java.base/java.lang is not open to Forkless
     */
    static void define(IntConsumer exit, IntConsumer halt, Function<String, URLStreamHandler> urlHandler,
                       Supplier<ClassLoader> systemLoader) throws ReflectiveOperationException {
        Class<?> bridge;
        try {
            bridge = Class.forName(NAME, false, null);
        } catch (ClassNotFoundException notYet) {
            bridge = MethodHandles.privateLookupIn(Runtime.class, MethodHandles.lookup()).defineClass(bytes());
        }
        bridge.getMethod("install", IntConsumer.class, IntConsumer.class, Function.class, Supplier.class)
                .invoke(null, exit, halt, urlHandler, systemLoader);
    }

    /** @return whether the bridge is defined and has its hooks */
    static boolean installed() {
        try {
            Class<?> bridge = Class.forName(NAME, false, null);
            var field = bridge.getDeclaredField("url");
            return field.getType() == Function.class && bridge.getMethod("installed").invoke(null) == Boolean.TRUE;
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }

    /** The class file of the bridge. */
    static byte[] bytes() {
        return ClassFile.of().build(DESC, cb -> {
            cb.withFlags(AccessFlag.PUBLIC, AccessFlag.FINAL, AccessFlag.SUPER);
            int hookFlags = ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_VOLATILE;
            cb.withField("exit", INT_CONSUMER, hookFlags);
            cb.withField("halt", INT_CONSUMER, hookFlags);
            cb.withField("url", FUNCTION, hookFlags);
            cb.withField("loader", SUPPLIER, hookFlags);
            cb.withMethodBody("install", MethodTypeDesc.of(ConstantDescs.CD_void, INT_CONSUMER, INT_CONSUMER, FUNCTION, SUPPLIER),
                    ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> code
                            .aload(0).putstatic(DESC, "exit", INT_CONSUMER)
                            .aload(1).putstatic(DESC, "halt", INT_CONSUMER)
                            .aload(2).putstatic(DESC, "url", FUNCTION)
                            .aload(3).putstatic(DESC, "loader", SUPPLIER)
                            .return_());
            // ClassLoader.getSystemClassLoader() as JDK code acting for a copy should see it (JUL's handlers)
            cb.withMethodBody("systemClassLoader", LOADER_TYPE, ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> {
                Label jvm = code.newLabel();
                code.getstatic(DESC, "loader", SUPPLIER).dup().ifnull(jvm)
                        .invokeinterface(SUPPLIER, "get", MethodTypeDesc.of(ConstantDescs.CD_Object))
                        .dup().ifnull(jvm)
                        .checkcast(CLASS_LOADER)
                        .areturn()
                        .labelBinding(jvm).pop()
                        .invokestatic(CLASS_LOADER, "getSystemClassLoader", LOADER_TYPE)
                        .areturn();
            });
            cb.withMethodBody("installed", MethodTypeDesc.of(ConstantDescs.CD_boolean),
                    ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> {
                        Label no = code.newLabel();
                        code.getstatic(DESC, "url", FUNCTION).ifnull(no).iconst_1().ireturn()
                                .labelBinding(no).iconst_0().ireturn();
                    });
            for (String name : new String[]{"exit", "halt"}) {
                cb.withMethodBody(name, EXIT_TYPE, ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> {
                    Label none = code.newLabel();
                    code.getstatic(DESC, name, INT_CONSUMER).dup().ifnull(none)
                            .iload(0)
                            .invokeinterface(INT_CONSUMER, "accept", MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_int))
                            .return_()
                            .labelBinding(none).pop().return_();
                });
            }
            cb.withMethodBody("urlHandler", URL_TYPE, ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> {
                Label none = code.newLabel();
                code.getstatic(DESC, "url", FUNCTION).dup().ifnull(none)
                        .aload(0)
                        .invokeinterface(FUNCTION, "apply", MethodTypeDesc.of(ConstantDescs.CD_Object, ConstantDescs.CD_Object))
                        .checkcast(URL_STREAM_HANDLER)
                        .areturn()
                        .labelBinding(none).pop().aconst_null().areturn();
            });
        });
    }
}
