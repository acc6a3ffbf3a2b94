package dev.forkless.runtime;

import dev.forkless.runtime.log.ConsoleRouter;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.PrintStream;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A {@link Forkless} starts once, routes the console when it starts, and stops as often as asked. */
class ForklessLifecycleIT {

    @Test
    void startsOnceAndStopsIdempotently() throws Exception {
        PrintStream out = System.out;
        Forkless forkless = Forkless.builder()
                .app(RuntimeProcess.demoJar())
                .args(List.of("--port", "0", "--host", "127.0.0.1"))
                .copies(1)
                .standby(0)
                .build();
        assertSame(out, System.out, "nothing JVM-wide before start()");
        try {
            forkless.start();
            // start() routes the console by copy (another runtime in this JVM may have routed it before)
            assertInstanceOf(ConsoleRouter.RoutingStream.class, System.out);
            assertEquals(200, Http.get(forkless.addresses().getFirst(), "/").status());
            assertEquals("already started", assertThrows(IllegalStateException.class, forkless::start).getMessage());
        } finally {
            assertEquals(0, forkless.stopAsync("test").join());
        }
        assertEquals(0, forkless.stopAsync("again").join());
        assertEquals(0, forkless.awaitTermination());
        forkless.close();
        assertThrows(IllegalStateException.class, forkless::start);
    }
}
