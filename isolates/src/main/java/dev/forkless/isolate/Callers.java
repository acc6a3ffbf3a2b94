package dev.forkless.isolate;

import java.util.Set;

/**
 * Which copy a call that reached JVM-wide JDK code belongs to, when no rewritten call site says it.
 *
 * <p>The nearest caller that is not the JDK decides: a class of an isolate (or of a loader below an
 * isolate's loader) means that isolate; a class of Forkless itself (the runtime opening its own shared
 * socket on a copy's thread, say) means none. When every frame is the JDK's (a JDK thread working for
 * the app), the thread decides ({@link Isolate#of(Thread)}).
 */
final class Callers {

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    /** The classes that relay a JDK call to Forkless: never the caller that decides. */
    private static final Set<String> RELAYS = Set.of(
            "java.lang.ForklessBridge",
            "dev.forkless.isolate.JvmHooks",
            "dev.forkless.isolate.Callers",
            "dev.forkless.isolate.ForklessSelectorProvider");

    private Callers() {
    }

    /** @return the isolate the current call belongs to, or {@code null} */
    static Isolate isolate() {
        Class<?> decider = WALKER.walk(frames -> frames
                .map(StackWalker.StackFrame::getDeclaringClass)
                .filter(c -> !isJdk(c) && !RELAYS.contains(c.getName()))
                .findFirst()
                .orElse(null));
        if (decider == null) {
            return Isolate.of(Thread.currentThread());
        }
        Isolate isolate = Isolate.of(decider);
        if (isolate != null || isHost(decider.getClassLoader())) {
            return isolate;
        }
        // a loader the app made outside any isolate loader's descent (a parent of null, say)
        return Isolate.of(Thread.currentThread());
    }

    private static boolean isJdk(Class<?> type) {
        ClassLoader loader = type.getClassLoader();
        return loader == null || loader == ClassLoader.getPlatformClassLoader();
    }

    /** Whether a loader is Forkless's own (the loader of this class or one of its ancestors). */
    private static boolean isHost(ClassLoader loader) {
        for (ClassLoader l = Callers.class.getClassLoader(); l != null; l = l.getParent()) {
            if (l == loader) {
                return true;
            }
        }
        return false;
    }
}
