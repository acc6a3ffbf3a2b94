package dev.forkless.isolate;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.ExceptionCatch;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LabelTarget;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The rewriter's catch-site hook: a handler that can catch an {@code OutOfMemoryError} starts with
 * {@code IsolateHooks.caught}; a handler of {@code Exception} and a {@code finally} do not.
 */
class CatchHookTest {

    static final class CatchesThrowable {
        static String run(Runnable r) {
            try {
                r.run();
                return "ok";
            } catch (Throwable t) {
                return "caught";
            }
        }
    }

    static final class CatchesExceptionOnly {
        static int calls;

        static String run(Runnable r) {
            try {
                r.run();
                return "ok";
            } catch (RuntimeException e) {
                return "caught";
            } finally {
                calls++;
            }
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

    /** @return for each handler of method {@code run}, the first call after its label, or "" */
    private static List<String> firstCallsOfHandlers(byte[] bytes) {
        ClassModel model = ClassFile.of().parse(bytes);
        MethodModel run = model.methods().stream().filter(m -> m.methodName().equalsString("run")).findFirst().orElseThrow();
        CodeModel code = run.code().orElseThrow();
        List<String> found = new ArrayList<>();
        for (ExceptionCatch handler : code.exceptionHandlers()) {
            boolean at = false;
            String first = "";
            for (var element : code.elementList()) {
                if (element instanceof LabelTarget t && t.label() == handler.handler()) {
                    at = true;
                } else if (at && element instanceof java.lang.classfile.Instruction instruction) {
                    if (instruction instanceof InvokeInstruction call) {
                        first = call.owner().asSymbol().equals(CallSiteRewriter.HOOKS) ? call.name().stringValue() : "";
                        break;
                    }
                    if (instruction instanceof java.lang.classfile.instruction.StoreInstruction) {
                        break; // the handler's own code began
                    }
                }
            }
            found.add(handler.catchType().map(c -> c.asSymbol().displayName()).orElse("any") + ":" + first);
        }
        return found;
    }

    @Test
    void aHandlerOfThrowableStartsWithTheHook() throws IOException {
        assertEquals(List.of("Throwable:caught"), firstCallsOfHandlers(rewrite(CatchesThrowable.class)));
    }

    @Test
    void handlersThatCannotCatchAnOutOfMemoryErrorAreLeftAlone() throws IOException {
        List<String> handlers = firstCallsOfHandlers(rewrite(CatchesExceptionOnly.class));
        assertEquals(3, handlers.size(), handlers.toString()); // catch, and finally after the try and after the catch
        for (String handler : handlers) {
            assertEquals("", handler.substring(handler.indexOf(':') + 1), handler);
        }
    }
}
