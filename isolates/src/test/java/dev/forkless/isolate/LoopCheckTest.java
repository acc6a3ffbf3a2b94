package dev.forkless.isolate;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A thread spinning in app code ends at unload when the loader inserted loop checks, and only then. */
class LoopCheckTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void dispatchUncaughtExceptions() {
        UncaughtExceptionDispatcher.install();
    }

    private Isolate.UnloadReport spinThenUnload(boolean loopChecks) throws Exception {
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = Isolate.builder().id("spin").app(AppJar.open(TestApps.jar(dir, "SpinApp")))
                    .host(host).rewriter(new CallSiteRewriter(loopChecks)).build();
            ClassLoader loader = isolate.loader(); // the isolate lets go of it at unload
            isolate.start(List.of()); // it spins until unwound, or told to stop below
            try {
                host.ready.get(30, TimeUnit.SECONDS);
                // with checks the unload returns once the spinner is unwound; without, after its grace
                return isolate.unload(loopChecks ? Duration.ofSeconds(30) : Duration.ofMillis(500));
            } finally {
                // the test leaves no spinner behind
                loader.loadClass("testapps.SpinApp").getField("stop").setBoolean(null, true);
            }
        }
    }

    @Test
    void aSpinningThreadEndsAtUnloadWithLoopChecks() throws Exception {
        assertEquals(List.of(), spinThenUnload(true).leftoverThreads());
    }

    /**
     * Code of an unloaded copy that another copy's thread still reaches (through a JVM-wide registry: a
     * JUL handler on the root logger) runs on for that thread; a thread of the unloaded copy, or of no
     * copy, is unwound at the loop check.
     */
    @Test
    void aCancelledTokenUnwindsOnlyThreadsOfItsCopyOrOfNone() throws Exception {
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            CallSiteRewriter rewriter = new CallSiteRewriter(true);
            Path jar = TestApps.jar(dir, "SpinApp");
            Isolate unloaded = Isolate.builder().id("unloaded").app(AppJar.open(jar)).host(host).rewriter(rewriter).build();
            Isolate running = Isolate.builder().id("running").app(AppJar.open(jar)).host(host).rewriter(rewriter).build();
            try {
                ClassLoader unloadedLoader = unloaded.loader();
                ClassLoader runningLoader = running.loader();
                Callable<?> task = (Callable<?>) unloadedLoader.loadClass("testapps.CountingTask")
                        .getConstructor().newInstance();
                assertEquals(500500L, task.call(), "before the unload, it runs for anyone");
                unloaded.unload(Duration.ofMillis(100));

                assertEquals(500500L, callOn(task, runningLoader), "a thread of a running copy goes on");
                assertInstanceOf(Cancellation.IsolateCancelled.class, callOn(task, unloadedLoader),
                        "a thread of the unloaded copy is unwound");
                assertInstanceOf(Cancellation.IsolateCancelled.class, callOn(task, ClassLoader.getSystemClassLoader()),
                        "a thread of no copy is unwound");
                running.unload(Duration.ofMillis(100));
                assertInstanceOf(Cancellation.IsolateCancelled.class, callOn(task, runningLoader),
                        "once its own copy is unloaded too, it is unwound");
            } finally {
                unloaded.unload(Duration.ofMillis(100));
                running.unload(Duration.ofMillis(100));
            }
        }
    }

    /** Calls the task on a new thread whose context loader says which copy it works for: its result or its throwable. */
    private static Object callOn(Callable<?> task, ClassLoader contextLoader) throws InterruptedException {
        Object[] outcome = new Object[1];
        Thread thread = Thread.ofPlatform().unstarted(() -> {
            try {
                outcome[0] = task.call();
            } catch (Throwable t) {
                outcome[0] = t;
            }
        });
        thread.setContextClassLoader(contextLoader);
        thread.start();
        thread.join();
        return outcome[0];
    }

    @Test
    void withoutLoopChecksTheSpinningThreadIsLeftOver() throws Exception {
        assertEquals(List.of("spinner"), spinThenUnload(false).leftoverThreads());
    }
}
