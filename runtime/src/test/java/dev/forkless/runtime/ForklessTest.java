package dev.forkless.runtime;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The builder's settings and the life of a {@link Forkless} that is never started: no app runs here. */
class ForklessTest {

    @TempDir
    Path dir;

    private Forkless.Builder builder() {
        return Forkless.builder().app("example.Main", List.of(dir));
    }

    @Test
    void aDrainTimeoutHoldsWhetherTheRestartPolicyIsSetBeforeOrAfterIt() {
        RestartPolicy policy = RestartPolicy.DEFAULT.withCrashLoopGuard(Duration.ofSeconds(2), 3);

        RestartPolicy after = builder().drainTimeout(Duration.ofSeconds(9)).restartPolicy(policy).policy();
        RestartPolicy before = builder().restartPolicy(policy).drainTimeout(Duration.ofSeconds(9)).policy();

        assertEquals(Duration.ofSeconds(9), after.drainTimeout());
        assertEquals(policy.withDrainTimeout(Duration.ofSeconds(9)), after);
        assertEquals(after, before);
        assertEquals(RestartPolicy.DEFAULT.drainTimeout(), builder().restartPolicy(policy).policy().drainTimeout());
        assertEquals(Duration.ofSeconds(7), builder()
                .restartPolicy(policy.withDrainTimeout(Duration.ofSeconds(7))).policy().drainTimeout());
    }

    @Test
    void theCliBackoffKeepsThePolicysMultiplier() {
        RestartPolicy policy = RestartPolicy.DEFAULT.withBackoff(Duration.ofMillis(200), Duration.ofSeconds(3));
        assertEquals(RestartPolicy.DEFAULT_MULTIPLIER, policy.multiplier());
        assertEquals(Duration.ofMillis(200), policy.delayBefore(1));
        assertEquals(Duration.ofMillis(300), policy.delayBefore(2));
        assertEquals(Duration.ofSeconds(3), policy.delayBefore(50));
    }

    @Test
    void buildingChangesNothingJvmWideAndAStopBeforeAStartIsFinal() {
        PrintStream out = System.out;
        PrintStream err = System.err;

        Forkless forkless = builder().build();
        assertSame(out, System.out, "the console is routed by start(), not by build()");
        assertSame(err, System.err);

        assertEquals(0, forkless.stopAsync("test").join());
        assertEquals(0, forkless.stopAsync("again").join(), "stopping twice is harmless");
        forkless.close();
        IllegalStateException restarted = assertThrows(IllegalStateException.class, forkless::start);
        assertEquals("stopped: a Forkless starts once; build a new one", restarted.getMessage());
        assertSame(out, System.out);
    }

    /**
     * A bad app reaches an embedder as the runtime's own exception (the app side's {@code BadAppException}
     * stays behind the API), with the one-line message the CLI prints and its exit code, 2.
     */
    @Test
    void aBadAppIsAForklessExceptionWithExitCodeTwo() throws Exception {
        Path missing = dir.resolve("missing.jar");
        ForklessException noFile = assertThrows(ForklessException.class, () -> Forkless.builder().app(missing));
        assertEquals("no such file: " + missing, noFile.getMessage());
        assertEquals(2, noFile.exitCode());
        Path text = java.nio.file.Files.writeString(dir.resolve("notes.jar"), "not a jar at all");
        ForklessException notAJar = assertThrows(ForklessException.class, () -> Forkless.builder().app(text));
        assertEquals("not a jar file: " + text, notAJar.getMessage());
        assertEquals(2, notAJar.exitCode());
        ForklessException noClassPath = assertThrows(ForklessException.class,
                () -> Forkless.builder().app("example.Main", List.of()));
        assertEquals("empty class path for example.Main", noClassPath.getMessage());
        assertEquals(2, noClassPath.exitCode());
    }
}
