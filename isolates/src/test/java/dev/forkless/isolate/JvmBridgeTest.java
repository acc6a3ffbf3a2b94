package dev.forkless.isolate;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.reflect.AccessFlag;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bridge the agent defines in java.base: THE exception to "no mutable static state". */
class JvmBridgeTest {

    @Test
    void itsOnlyMutableStaticsAreItsFourHooks() {
        ClassModel bridge = ClassFile.of().parse(JvmBridge.bytes());
        assertEquals("java/lang/ForklessBridge", bridge.thisClass().asInternalName());
        assertEquals(Set.of("exit", "halt", "url", "loader"), bridge.fields().stream()
                .filter(f -> f.flags().has(AccessFlag.STATIC) && !f.flags().has(AccessFlag.FINAL))
                .map(f -> f.fieldName().stringValue())
                .collect(Collectors.toSet()));
        assertEquals(4, bridge.fields().size(), "and nothing else");
    }

    @Test
    void itRefersToNothingButJavaBase() {
        ClassModel bridge = ClassFile.of().parse(JvmBridge.bytes());
        for (var entry : bridge.constantPool()) {
            if (entry instanceof java.lang.classfile.constantpool.ClassEntry c) {
                String name = c.asInternalName();
                assertEquals(Object.class.getModule(), moduleOf(name), name);
            }
        }
    }

    private static Module moduleOf(String internalName) {
        if (internalName.equals("java/lang/ForklessBridge")) {
            return Object.class.getModule();
        }
        try {
            return Class.forName(internalName.replace('/', '.'), false, null).getModule();
        } catch (ClassNotFoundException e) {
            throw new AssertionError(internalName + " is not a java.base class", e);
        }
    }
}
