package dev.forkless.isolate;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
            isolate.start(List.of("5000")); // without checks it ends by itself, so the test leaves no spinner
            host.ready.get(10, TimeUnit.SECONDS);
            return isolate.unload(Duration.ofMillis(500));
        }
    }

    @Test
    void aSpinningThreadEndsAtUnloadWithLoopChecks() throws Exception {
        assertEquals(List.of(), spinThenUnload(true).leftoverThreads());
    }

    @Test
    void withoutLoopChecksTheSpinningThreadIsLeftOver() throws Exception {
        assertEquals(List.of("spinner"), spinThenUnload(false).leftoverThreads());
    }
}
