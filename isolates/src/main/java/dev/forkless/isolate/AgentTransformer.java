package dev.forkless.isolate;

import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.MethodModel;
import java.lang.constant.ClassDesc;
import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The agent's class file transformer.
 *
 * <ul>
 *   <li>A class defined by a loader below an isolate's loader (or, when its loader descends from none,
 *       defined on a copy's thread by a loader the app made) goes through that isolate's
 *       {@link CallSiteRewriter}. The isolate loader's own classes are not touched: it rewrote them
 *       itself, and does so without the agent too.</li>
 *   <li>{@code java.lang.Runtime}: {@code exit} and {@code halt} first call the bridge, which ends the
 *       calling copy and never returns when the call belongs to one.</li>
 *   <li>{@code java.net.URL}: {@code getURLStreamHandler(protocol)} first asks the bridge for the calling
 *       copy's handler.</li>
 *   <li>{@code java.util.logging.LogManager}: its {@code ClassLoader.getSystemClassLoader()} calls give the
 *       calling copy's loader, so the handlers a copy's logging configuration names can be loaded.</li>
 * </ul>
 * A failure never breaks class loading: the class is left as it was and the failure is kept for the log.
 */
final class AgentTransformer implements ClassFileTransformer {

    private static final ClassDesc BRIDGE = JvmBridge.DESC;
    private static final System.Logger LOG = System.getLogger(AgentTransformer.class.getName());
    private final java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile String failure;

    /** @return the first failure to transform a class, or {@code null} */
    String failure() {
        return failure;
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
                            ProtectionDomain domain, byte[] bytes) {
        try {
            if (loader == null) {
                if (redefined == Runtime.class) {
                    return prepend(bytes, m -> m.methodName().equalsString("exit") || m.methodName().equalsString("halt"),
                            m -> code -> code.iload(1).invokestatic(BRIDGE, m.methodName().stringValue(), JvmBridge.EXIT_TYPE));
                }
                if (redefined == java.net.URL.class) {
                    return prepend(bytes, m -> m.methodName().equalsString("getURLStreamHandler")
                                    && m.methodType().equalsString("(Ljava/lang/String;)Ljava/net/URLStreamHandler;"),
                            m -> AgentTransformer::askBridgeForHandler);
                }
                if ("java/util/logging/LogManager".equals(className)) {
                    return systemLoaderForCopies(bytes);
                }
                return null;
            }
            if (redefined != null || loader instanceof IsolateClassLoader) {
                return null;
            }
            IsolateClassLoader owner = isolateLoaderAbove(loader);
            if (owner == null) {
                return null;
            }
            byte[] rewritten = owner.rewriter().rewrite(owner.version(), loader.getClass().getName() + "@" + loader.getName(),
                    className, bytes, desc -> resource(loader, desc));
            owner.noteNettyNative(className, bytes, rewritten);
            return rewritten == bytes ? null : rewritten;
        } catch (Throwable t) {
            if (failed.compareAndSet(false, true)) {
                failure = "cannot rewrite " + className + " (left as it is): " + t;
                if (redefined == null && loader != null) {
                    // a class of an app's own loader, after the agent started: say it once
                    LOG.log(System.Logger.Level.WARNING, "Forkless agent: " + failure);
                }
            }
            return null;
        }
    }

    /** The isolate loader the class's loader descends from; else, for a loader the app made, the thread's. */
    private static IsolateClassLoader isolateLoaderAbove(ClassLoader loader) {
        for (ClassLoader l = loader.getParent(); l != null; l = l.getParent()) {
            if (l instanceof IsolateClassLoader isolateLoader) {
                return isolateLoader;
            }
        }
        if (loader == ClassLoader.getSystemClassLoader() || loader == ClassLoader.getPlatformClassLoader()
                || loader == AgentTransformer.class.getClassLoader()) {
            return null;
        }
        Isolate isolate = Isolate.of(Thread.currentThread());
        return isolate != null && isolate.loader() instanceof IsolateClassLoader l ? l : null;
    }

    private static InputStream resource(ClassLoader loader, ClassDesc desc) {
        String descriptor = desc.descriptorString();
        return loader.getResourceAsStream(descriptor.substring(1, descriptor.length() - 1) + ".class");
    }

    /**
     * JUL's {@code LogManager} loads the handlers, formatters and filters a logging configuration names
     * through {@code ClassLoader.getSystemClassLoader()}: for a copy, that is the copy's loader.
     */
    private static byte[] systemLoaderForCopies(byte[] bytes) {
        ClassFile classFile = ClassFile.of();
        return classFile.transformClass(classFile.parse(bytes), ClassTransform.transformingMethodBodies((code, element) -> {
            if (element instanceof java.lang.classfile.instruction.InvokeInstruction call
                    && call.opcode() == java.lang.classfile.Opcode.INVOKESTATIC
                    && call.owner().asInternalName().equals("java/lang/ClassLoader")
                    && call.name().equalsString("getSystemClassLoader")) {
                code.invokestatic(BRIDGE, "systemClassLoader", JvmBridge.LOADER_TYPE);
            } else {
                code.with(element);
            }
        }));
    }

    /** {@code h = JvmBridge.urlHandler(protocol); if (h != null) return h;} then the JDK's lookup. */
    private static void askBridgeForHandler(CodeBuilder code) {
        java.lang.classfile.Label jdk = code.newLabel();
        code.aload(0)
                .invokestatic(BRIDGE, "urlHandler", JvmBridge.URL_TYPE)
                .dup()
                .ifnull(jdk)
                .areturn()
                .labelBinding(jdk)
                .pop();
    }

    /** Adds code at the start of the methods {@code which} selects. */
    private static byte[] prepend(byte[] bytes, Predicate<MethodModel> which,
                                  java.util.function.Function<MethodModel, Consumer<CodeBuilder>> first) {
        ClassFile classFile = ClassFile.of();
        return classFile.transformClass(classFile.parse(bytes), ClassTransform.transformingMethods(which,
                (methodBuilder, methodElement) -> {
                    if (methodElement instanceof java.lang.classfile.CodeModel codeModel) {
                        MethodModel method = codeModel.parent().orElseThrow();
                        Consumer<CodeBuilder> start = first.apply(method);
                        methodBuilder.transformCode(codeModel, new CodeTransform() {
                            @Override
                            public void atStart(CodeBuilder builder) {
                                start.accept(builder);
                            }

                            @Override
                            public void accept(CodeBuilder builder, CodeElement element) {
                                builder.with(element);
                            }
                        });
                    } else {
                        methodBuilder.with(methodElement);
                    }
                }));
    }
}
