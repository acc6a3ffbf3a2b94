package dev.forkless.runtime.admin;

import dev.forkless.isolate.Isolate;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Filter;
import java.util.logging.Handler;
import java.util.logging.Logger;

/**
 * Keeps the admin server's own Helidon INFO lines ("features", "bound for socket", "started all
 * channels") out of the runtime's output while it starts and stops. Helidon logs through the JVM-wide
 * {@code java.util.logging} handlers that the apps' own Helidon uses too, so only records logged by
 * threads of no isolate are dropped, and only for the duration of the call: an app's lines are never
 * touched.
 */
final class QuietHelidonLog {

    private QuietHelidonLog() {
    }

    /** Helidon prints its "features" line from a thread of its own, just after the server started. */
    private static void awaitFeaturesThread() {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("features-thread") && Isolate.of(t) == null) {
                try {
                    t.join(java.time.Duration.ofSeconds(2));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    static <T> T run(Supplier<T> action) {
        List<Handler> handlers = List.of(Logger.getLogger("").getHandlers());
        List<Filter> previous = new ArrayList<>();
        for (Handler handler : handlers) {
            Filter before = handler.getFilter();
            previous.add(before);
            handler.setFilter(record -> {
                boolean ours = Isolate.of(Thread.currentThread()) == null
                        && record.getLoggerName() != null
                        && record.getLoggerName().startsWith("io.helidon.")
                        && record.getLevel().intValue() <= java.util.logging.Level.INFO.intValue();
                return !ours && (before == null || before.isLoggable(record));
            });
        }
        try {
            T result = action.get();
            awaitFeaturesThread();
            return result;
        } finally {
            for (int i = 0; i < handlers.size(); i++) {
                handlers.get(i).setFilter(previous.get(i));
            }
        }
    }
}
