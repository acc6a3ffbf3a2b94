package dev.forkless.runtime.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Signals a runtime inherited as ignored. {@code nohup} (and some service wrappers) start a program with
 * SIGHUP ignored, and the JVM then silently refuses a handler for it ({@code sun.misc.Signal.handle}
 * answers {@code SIG_IGN} and installs nothing): {@code kill -HUP} would never reload. The runtime takes
 * SIGHUP back, because for it the signal means "reload", which no hangup should be kept from asking.
 */
final class InheritedSignals {

    /** SIGHUP on Linux and the BSDs. */
    static final int SIGHUP = 1;

    private InheritedSignals() {
    }

    /**
     * Gives {@code signal} its default disposition again ({@code signal(sig, SIG_DFL)}), so that the JVM
     * accepts a handler for it.
     *
     * @return whether it worked
     */
    static boolean restoreDefault(int signal) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle call = linker.downcallHandle(linker.defaultLookup().find("signal").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MemorySegment previous = (MemorySegment) call.invokeExact(signal, MemorySegment.NULL);
            return previous.address() != -1L; // SIG_ERR
        } catch (Throwable unavailable) {
            return false;
        }
    }
}
