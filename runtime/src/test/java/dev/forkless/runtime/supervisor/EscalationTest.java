package dev.forkless.runtime.supervisor;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** How {@code --escalate} tells that the runtime's JVM still burns CPU once every copy is a process. */
class EscalationTest {

    @Test
    void demandIsCountedPerThreadSoAThreadThatEndedDoesNotCancelAnotherOnesSpin() {
        Escalation.Sample before = new Escalation.Sample(0, Map.of("10", 100L, "11", 5_000_000_000L), 7.0);
        // thread 11 ended (its 5 s of history is gone from the sum), thread 12 was born and spun 0.2 s
        Escalation.Sample after = new Escalation.Sample(1_000_000_000L, Map.of("10", 900_000_100L, "12", 200_000_000L), 7.5);
        assertEquals(1.1, after.secondsSince(before), 1e-9);
        // no schedstat: the CPU the process used
        Escalation.Sample noSchedstat = new Escalation.Sample(1_000_000_000L, Map.of(), 7.5);
        assertEquals(0.5, noSchedstat.secondsSince(before), 1e-9);
    }

    @Test
    void aSpinningThreadAsksForAWholeCoreWhateverTheMachineGivesIt() throws Exception {
        AtomicBoolean spin = new AtomicBoolean(true);
        Thread spinner = Thread.ofPlatform().daemon().name("spinner").start(() -> {
            while (spin.get()) {
                Thread.onSpinWait();
            }
        });
        try {
            Escalation.Sample first = Escalation.Sample.take();
            assertFalse(first.perThread().isEmpty(), "this Linux keeps /proc/self/task/TID/schedstat");
            // run + run-queue wait: about 1 core for the spinner even when other builds leave it a tenth of one
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                Escalation.Sample now = Escalation.Sample.take();
                double elapsed = (now.nanoTime() - first.nanoTime()) / 1e9;
                return elapsed >= 1.0 && now.secondsSince(first) / elapsed >= 0.8;
            });
        } finally {
            spin.set(false);
            spinner.join();
        }
    }
}
