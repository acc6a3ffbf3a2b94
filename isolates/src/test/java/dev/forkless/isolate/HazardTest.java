package dev.forkless.isolate;

import java.io.ObjectInputFilter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What one copy does to JVM-wide state stays in that copy. */
class HazardTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void install() {
        UncaughtExceptionDispatcher.install();
        SerialFilters.install();
    }

    @Test
    void propertiesFiltersHandlersAndStdoutArePerCopy() throws Exception {
        Thread.UncaughtExceptionHandler jvmHandler = Thread.getDefaultUncaughtExceptionHandler();
        PrintStream jvmOut = System.out;
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            for (String id : List.of("a", "b")) {
                Path report = dir.resolve(id + ".txt");
                Isolate isolate = Isolate.builder().id(id).app(AppJar.open(TestApps.jar(dir, "HazardApp")))
                        .host(new TestApps.RecordingHost(host.sockets())).build();
                isolate.start(List.of(report.toString(), id));
                // written whole, not only created (a read between the two would see part of it)
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(report)
                        && Files.readString(report).lines().count() == 4 && Files.readString(report).endsWith("\n"));
                assertEquals("property=" + id + "\ninteger=7\nfilter=true\nhandler=true\n", Files.readString(report),
                        "each copy sees its own settings");
                // where the copy's System.out output then goes is the host's console router's job (runtime tests)
                isolate.unload(Duration.ofSeconds(30));
            }
        }
        assertNull(System.getProperty("forkless.hazard"), "the JVM's properties are untouched");
        assertNull(ObjectInputFilter.Config.getSerialFilter(), "the JVM-wide filter is untouched");
        assertSame(jvmHandler, Thread.getDefaultUncaughtExceptionHandler());
        assertSame(jvmOut, System.out);
        assertTrue(Thread.getDefaultUncaughtExceptionHandler() instanceof UncaughtExceptionDispatcher);
    }
}
