package dev.forkless.child;

import dev.forkless.isolate.NettyNativeToNio;

import java.lang.classfile.ClassHierarchyResolver;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Swaps Netty's native transports for NIO at a child's app's call sites ({@link NettyNativeToNio}, as
 * isolate mode does): a child runs with {@code io.netty.transport.noNative=true}, and NIO goes through
 * {@link ChildSelectorProvider} to the runtime's socket. Said once on the child's standard error, which the
 * runtime logs behind the copy's tag. Only classes naming a native transport class are parsed.
 */
final class NettyNativeRewriter implements ClassFileTransformer {

    private final String copy;
    private final AtomicBoolean said = new AtomicBoolean();

    private NettyNativeRewriter(String copy) {
        this.copy = copy;
    }

    static void install(Instrumentation inst, String copy) {
        inst.addTransformer(new NettyNativeRewriter(copy));
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (loader == null || loader == ClassLoader.getPlatformClassLoader() || className == null
                || className.startsWith("dev/forkless/") || className.startsWith("java/")) {
            return null;
        }
        String transport = NettyNativeToNio.transportNamed(className, bytes);
        if (transport == null) {
            return null;
        }
        try {
            ClassHierarchyResolver strict = ClassHierarchyResolver.ofResourceParsing(loader).cached();
            byte[] rewritten;
            try {
                rewritten = NettyNativeToNio.rewrite(bytes, strict);
            } catch (IllegalArgumentException unresolved) {
                // a type merged at a branch is not on the class path (an optional dependency)
                rewritten = NettyNativeToNio.rewrite(bytes,
                        strict.orElse(desc -> ClassHierarchyResolver.ClassHierarchyInfo.ofInterface()));
            }
            if (rewritten == bytes) {
                return null;
            }
            if (said.compareAndSet(false, true)) {
                System.err.println(NettyNativeToNio.message("process=" + copy, transport, className));
            }
            return rewritten;
        } catch (RuntimeException e) {
            System.err.println("forkless: child cannot rewrite Netty's native transport to NIO in " + className + ": " + e);
            return null;
        }
    }
}
