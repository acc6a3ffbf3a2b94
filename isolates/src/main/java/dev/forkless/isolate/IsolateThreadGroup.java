package dev.forkless.isolate;

import java.util.ArrayList;
import java.util.List;

/**
 * The thread group of one isolate. Its {@code main} thread runs in it, so every platform thread the app
 * starts lands in it too (a new thread joins its creator's group). An exception that escapes one of
 * these threads is a crash of this isolate only.
 */
final class IsolateThreadGroup extends ThreadGroup {

    private final Isolate isolate;

    IsolateThreadGroup(Isolate isolate) {
        super("isolate-" + isolate.id());
        this.isolate = isolate;
    }

    Isolate isolate() {
        return isolate;
    }

    @Override
    public void uncaughtException(Thread thread, Throwable cause) {
        isolate.uncaught(thread, cause);
    }

    /** @return the live platform threads of the isolate */
    List<Thread> liveThreads() {
        Thread[] found = new Thread[activeCount() + 16];
        int n = enumerate(found, true);
        List<Thread> live = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (found[i].isAlive()) {
                live.add(found[i]);
            }
        }
        return live;
    }
}
