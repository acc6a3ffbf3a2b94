package example.undertow;

import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.concurrent.ForkJoinPool;

/**
 * {@code /exit?how=...}: 100 ms after the answer, the app calls {@code System.exit(3)} (or halts with 3) by
 * one of the paths an app can take. The same class is in every example (they share no code) and the demo.
 */
final class Exits {

    static final List<String> HOWS = List.of("direct", "reflect", "handle", "halt", "pool", "loader");

    private Exits() {
    }

    /** @param how one of {@link #HOWS}, {@code null} for direct @throws IllegalArgumentException for any other */
    static void exitSoon(String how) {
        String path = how == null || how.isEmpty() ? "direct" : how;
        if (!HOWS.contains(path)) {
            throw new IllegalArgumentException("how must be one of " + HOWS);
        }
        new Thread(() -> {
            try {
                Thread.sleep(100);
                exit(path);
            } catch (Throwable t) {
                Exits.<RuntimeException>unwind(t); // an exit does not return: let what comes back end the thread
            }
        }, "exiter").start();
    }

    private static void exit(String how) throws Throwable {
        switch (how) {
            case "direct" -> System.exit(3);
            case "reflect" -> Runtime.class.getMethod("exit", int.class).invoke(Runtime.getRuntime(), 3);
            case "handle" -> MethodHandles.publicLookup()
                    .findVirtual(Runtime.class, "exit", MethodType.methodType(void.class, int.class))
                    .invoke(Runtime.getRuntime(), 3);
            case "halt" -> Runtime.getRuntime().halt(3);
            case "pool" -> ForkJoinPool.commonPool().execute(() -> System.exit(3));
            default -> { // "loader": Exiter, defined again from this jar's bytes by a loader the app makes
                byte[] bytes;
                try (InputStream in = Exits.class.getResourceAsStream("Exits$Exiter.class")) {
                    bytes = in.readAllBytes();
                }
                Class<?> exiter = new ClassLoader(Exits.class.getClassLoader()) {
                    Class<?> define() {
                        return defineClass(null, bytes, 0, bytes.length);
                    }
                }.define();
                ((Runnable) exiter.getConstructor().newInstance()).run();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void unwind(Throwable t) throws T {
        throw (T) (t instanceof java.lang.reflect.InvocationTargetException e ? e.getCause() : t);
    }

    /** Run by the loader case from a class its own loader defined. */
    public static final class Exiter implements Runnable {
        @Override
        public void run() {
            System.exit(3);
        }
    }
}
