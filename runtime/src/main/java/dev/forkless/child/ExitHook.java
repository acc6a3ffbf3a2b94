package dev.forkless.child;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.MethodModel;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.security.ProtectionDomain;
import java.util.function.IntConsumer;

/**
 * Lets the child see the app's {@code Runtime.exit} and {@code Runtime.halt} (by any path: direct,
 * reflection, method handles, {@code System.exit}) just before they happen, so the copy can report its
 * exit and drain first: its connections close between requests instead of being reset. The only JDK
 * change in a child: {@code Runtime.exit(int)} and {@code Runtime.halt(int)} first call the hook held by
 * a one-field class defined in {@code java.lang} (reachable from {@code java.base}, no boot class path
 * append).
 */
final class ExitHook {

    private static final String BRIDGE = "java.lang.ForklessChildExit";
    private static final ClassDesc CD_INT_CONSUMER = ClassDesc.of("java.util.function.IntConsumer");

    private ExitHook() {
    }

    /** Installs the hook; on any failure the app runs with the JDK's plain exit, and the log says so. */
    static void install(Instrumentation inst, IntConsumer hook) {
        try {
            ClassDesc bridge = ClassDesc.of(BRIDGE);
            byte[] bytes = ClassFile.of().build(bridge, cb -> cb
                    .withFlags(ClassFile.ACC_PUBLIC | ClassFile.ACC_FINAL | ClassFile.ACC_SUPER)
                    .withField("hook", CD_INT_CONSUMER, ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC | ClassFile.ACC_VOLATILE));
            Class<?> defined = MethodHandles.privateLookupIn(Runtime.class, MethodHandles.lookup()).defineClass(bytes);
            defined.getField("hook").set(null, hook);
            ClassFileTransformer transformer = new ClassFileTransformer() {
                @Override
                public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
                                        ProtectionDomain domain, byte[] buffer) {
                    return "java/lang/Runtime".equals(name) ? patch(buffer, bridge) : null;
                }
            };
            inst.addTransformer(transformer, true);
            try {
                inst.retransformClasses(Runtime.class);
            } finally {
                inst.removeTransformer(transformer);
            }
        } catch (Throwable t) {
            System.err.println("forkless: child cannot watch Runtime.exit (" + t + "): an exit resets the copy's connections");
        }
    }

    private static byte[] patch(byte[] runtime, ClassDesc bridge) {
        ClassFile cf = ClassFile.of();
        CodeTransform prologue = new CodeTransform() {
            @Override
            public void atStart(CodeBuilder b) {
                b.getstatic(bridge, "hook", CD_INT_CONSUMER)
                        .dup()
                        .ifThen(java.lang.classfile.Opcode.IFNONNULL, then -> then
                                .iload(1)
                                .invokeinterface(CD_INT_CONSUMER, "accept",
                                        MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_int))
                                .aconst_null());
                b.pop();
            }

            @Override
            public void accept(CodeBuilder b, CodeElement e) {
                b.with(e);
            }
        };
        return cf.transformClass(cf.parse(runtime), ClassTransform.transformingMethodBodies(
                (MethodModel m) -> (m.methodName().equalsString("exit") || m.methodName().equalsString("halt"))
                        && m.methodType().equalsString("(I)V"),
                prologue));
    }
}
