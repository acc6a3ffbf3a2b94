package dev.forkless.child;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.MethodModel;
import java.lang.constant.ClassDesc;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

/**
 * Lets the child's Helidon drain adapter link against any Helidon 4: the adapter is compiled against the
 * newest Helidon 4, and the compiler adds bridge methods for types older 4.x releases lack (4.5's
 * {@code io.helidon.config.NamedService}), which would fail the class's verification there. When the
 * adapter's classes load, bridges naming a type the app's class loader cannot see are dropped: the older
 * Helidon never calls them. The isolate loader does the same for isolates.
 */
final class AdapterBridges implements ClassFileTransformer {

    private static final String ADAPTER_PACKAGE = "dev/forkless/child/helidon/";

    private AdapterBridges() {
    }

    static void install(Instrumentation inst) {
        inst.addTransformer(new AdapterBridges());
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain,
                            byte[] bytes) {
        if (loader == null || className == null || !className.startsWith(ADAPTER_PACKAGE)) {
            return null;
        }
        try {
            ClassFile cf = ClassFile.of();
            ClassModel model = cf.parse(bytes);
            if (model.methods().stream().noneMatch(m -> unlinkable(m, loader))) {
                return null;
            }
            return cf.transformClass(model, ClassTransform.dropping(
                    e -> e instanceof MethodModel m && unlinkable(m, loader)));
        } catch (RuntimeException e) {
            return null; // leave the class as it is: its own linkage error is the clearer message
        }
    }

    private static boolean unlinkable(MethodModel method, ClassLoader loader) {
        if ((method.flags().flagsMask() & ClassFile.ACC_BRIDGE) == 0) {
            return false;
        }
        var type = method.methodTypeSymbol();
        if (!visible(type.returnType(), loader)) {
            return true;
        }
        for (ClassDesc parameter : type.parameterList()) {
            if (!visible(parameter, loader)) {
                return true;
            }
        }
        return false;
    }

    private static boolean visible(ClassDesc type, ClassLoader loader) {
        ClassDesc element = type;
        while (element.isArray()) {
            element = element.componentType();
        }
        if (element.isPrimitive()) {
            return true;
        }
        String descriptor = element.descriptorString();
        return loader.getResource(descriptor.substring(1, descriptor.length() - 1) + ".class") != null;
    }
}
