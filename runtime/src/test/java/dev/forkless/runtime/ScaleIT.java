package dev.forkless.runtime;

import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;


import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scaling through the embedding API, under load, in this JVM. */
class ScaleIT {

    @org.junit.jupiter.params.ParameterizedTest(name = "{0} mode")
    @org.junit.jupiter.params.provider.EnumSource(value = Mode.class, names = {"ISOLATE", "PROCESS"})
    void scaleTwoToThreeToOneUnderLoadFailsNoRequest(Mode mode) throws Exception {
        List<ForklessEvent> events = new CopyOnWriteArrayList<>();
        try (Forkless forkless = Forkless.builder()
                .mode(mode)
                .app(RuntimeProcess.demoJar())
                .args(List.of("--port", "0", "--host", "127.0.0.1"))
                .copies(2)
                .standby(0)
                .listener(events::add)
                .build()
                .start()) {
            InetSocketAddress address = forkless.addresses().getFirst();
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 16, Duration.ofSeconds(4));
            // progress, not a rate: a busy machine serves a cold runtime slowly (CI saw fewer than 500 answers in 3 s)
            await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > 100);

            OperationResult up = forkless.scale(3).get();
            assertTrue(up.ok(), up.toString());
            assertEquals(3, serving(forkless));
            OperationResult down = forkless.scale(1).get();
            assertTrue(down.ok(), down.toString());
            await().atMost(Duration.ofSeconds(60)).until(() -> serving(forkless) == 1
                    && forkless.workers().stream().noneMatch(w -> w.state() == WorkerState.DRAINING));
            load.await();
            assertEquals(0, load.failed(), load.summary());
            assertTrue(events.stream().anyMatch(e -> e instanceof ForklessEvent.Scaled s && s.from() == 2 && s.to() == 3));
            assertTrue(events.stream().anyMatch(e -> e instanceof ForklessEvent.Scaled s && s.from() == 3 && s.to() == 1));
        }
    }

    private static long serving(Forkless forkless) {
        return forkless.workers().stream().filter(w -> w.state() == WorkerState.READY).count();
    }
}
