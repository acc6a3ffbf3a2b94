package dev.forkless.child;

import dev.forkless.isolate.IsolateServerSocket;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

/**
 * Gives a child's app that listens through {@code new java.net.ServerSocket(...)} (Helidon 4.1, plain
 * blocking servers) the runtime's socket, as its {@code ServerSocketChannel}s get it through
 * {@link ChildSelectorProvider}: in each class the app's loaders define, {@code new ServerSocket(args)}
 * becomes {@code new IsolateServerSocket(args, SelectorProvider.provider())}, a {@code ServerSocket} over
 * the copy's listener view (isolate mode rewrites the same calls). Only classes naming
 * {@code java/net/ServerSocket} are parsed; {@code super(...)} in a subclass is left alone.
 */
final class ServerSocketRewriter implements ClassFileTransformer {

    private static final String SERVER_SOCKET = "java/net/ServerSocket";
    private static final String OWN_PACKAGE = "dev/forkless/child/";
    private static final ClassDesc PROVIDER = ClassDesc.of("java.nio.channels.spi.SelectorProvider");

    /** The relocated name in forkless-child.jar: taken from the class, not written out. */
    private final ClassDesc target = ClassDesc.of(IsolateServerSocket.class.getName());

    private ServerSocketRewriter() {
    }

    static void install(Instrumentation inst) {
        inst.addTransformer(new ServerSocketRewriter());
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (loader == null || loader == ClassLoader.getPlatformClassLoader() || className == null
                || className.startsWith(OWN_PACKAGE) || className.startsWith("java/") || !names(bytes)) {
            return null;
        }
        try {
            ClassHierarchyResolver strict = ClassHierarchyResolver.ofResourceParsing(loader).cached();
            try {
                return rewrite(bytes, strict);
            } catch (IllegalArgumentException unresolved) {
                // a type merged at a branch is not on the class path (an optional dependency)
                return rewrite(bytes, strict.orElse(desc -> ClassHierarchyResolver.ClassHierarchyInfo.ofInterface()));
            }
        } catch (RuntimeException e) {
            System.err.println("forkless: child cannot rewrite new ServerSocket in " + className + ": " + e);
            return null;
        }
    }

    private byte[] rewrite(byte[] bytes, ClassHierarchyResolver resolver) {
        ClassFile cf = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(resolver));
        var model = cf.parse(bytes);
        boolean[] changed = {false};
        byte[] out = cf.transformClass(model, ClassTransform.transformingMethodBodies(
                CodeTransform.ofStateful(() -> new Rewrite(changed))));
        return changed[0] ? out : null;
    }

    /** {@code new ServerSocket} and its constructor call, in one method body. */
    private final class Rewrite implements CodeTransform {
        private final boolean[] changed;
        /** Rewritten {@code new} instructions whose constructor call is still to come. */
        private int pending;

        Rewrite(boolean[] changed) {
            this.changed = changed;
        }

        @Override
        public void accept(CodeBuilder code, CodeElement element) {
            switch (element) {
                case NewObjectInstruction n when n.className().asInternalName().equals(SERVER_SOCKET) -> {
                    pending++;
                    changed[0] = true;
                    code.new_(target);
                }
                case InvokeInstruction call when call.opcode() == Opcode.INVOKESPECIAL && pending > 0
                        && call.owner().asInternalName().equals(SERVER_SOCKET) && call.name().equalsString("<init>") -> {
                    pending--;
                    MethodTypeDesc type = call.typeSymbol();
                    code.invokestatic(PROVIDER, "provider", MethodTypeDesc.of(PROVIDER));
                    code.invokespecial(target, "<init>", type.insertParameterTypes(type.parameterCount(), PROVIDER));
                }
                default -> code.with(element);
            }
        }
    }

    /** @return whether the class file holds the name {@code java/net/ServerSocket} (its constant pool) */
    private static boolean names(byte[] bytes) {
        outer:
        for (int i = 0, last = bytes.length - SERVER_SOCKET.length(); i <= last; i++) {
            for (int j = 0; j < SERVER_SOCKET.length(); j++) {
                if (bytes[i + j] != SERVER_SOCKET.charAt(j)) {
                    continue outer;
                }
            }
            // exactly the class, not ServerSocketChannel or ServerSocketFactory
            int after = i + SERVER_SOCKET.length();
            if (after == bytes.length || bytes[after] != '$' && !Character.isLetterOrDigit(bytes[after])) {
                return true;
            }
        }
        return false;
    }
}
