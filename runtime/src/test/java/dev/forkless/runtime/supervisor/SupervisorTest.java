package dev.forkless.runtime.supervisor;

import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.ForklessException;
import dev.forkless.runtime.OperationResult;
import dev.forkless.runtime.RestartPolicy;
import dev.forkless.runtime.WorkerSnapshot;
import dev.forkless.runtime.WorkerState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The supervisor's decisions, with fake copies, a manual mailbox and a clock moved by hand: no JVM per
 * copy, no sleeps.
 */
class SupervisorTest {

    /** Back-off 100 ms x2 up to 1 s, reset after 30 s up, unstable under 1 s, errored after 3 in a row. */
    private static final RestartPolicy POLICY = RestartPolicy.DEFAULT
            .withBackoff(Duration.ofMillis(100), 2.0, Duration.ofSeconds(1))
            .withCrashLoopGuard(Duration.ofSeconds(1), 3)
            .withDrainTimeout(Duration.ofSeconds(5));
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(3);

    private final ManualScheduling loop = new ManualScheduling();
    private final List<FakeCopy> created = new ArrayList<>();
    private final List<ForklessEvent> events = new ArrayList<>();
    /** Copies of a mode the factory no longer makes (as after --escalate). */
    private final java.util.Set<String> otherMode = new java.util.HashSet<>();
    /** The reason the next copies fail to start with, or null. */
    private String startFailure;
    /** The kind of event whose emission fails once for want of heap, or null. */
    private Class<? extends ForklessEvent> heapFullAt;
    private Supervisor supervisor;

    @BeforeEach
    void newSupervisor() {
        supervisor = supervisor(POLICY, Duration.ZERO);
    }

    private Supervisor supervisor(RestartPolicy policy, Duration hangTimeout) {
        return supervisor(policy, hangTimeout, READY_TIMEOUT);
    }

    private Supervisor supervisor(RestartPolicy policy, Duration hangTimeout, Duration readyTimeout) {
        return new Supervisor(new Supervisor.CopyFactory() {
            @Override
            public Copy create(String id, java.util.OptionalInt instance, boolean accepting, Copy.Events events) {
                FakeCopy copy = new FakeCopy(id, instance, accepting, events);
                copy.failStart = startFailure;
                created.add(copy);
                return copy;
            }

            @Override
            public boolean makesLike(Copy copy) {
                return !otherMode.contains(copy.id());
            }
        }, policy, readyTimeout, hangTimeout, event -> {
            if (heapFullAt != null && heapFullAt.isInstance(event)) {
                heapFullAt = null;
                throw new OutOfMemoryError("Java heap space (the test's)");
            }
            events.add(event);
        }, loop);
    }

    /** Starts {@code copies} serving copies and {@code standby} standbys, and makes every one ready. */
    private void running(int copies, int standby) {
        CompletableFuture<Void> started = supervisor.startAsync(copies, standby);
        loop.settle();
        assertEquals(copies + standby, created.size());
        assertFalse(started.isDone(), "not started before its copies are ready");
        List.copyOf(created).forEach(FakeCopy::becomeReady);
        loop.settle();
        assertTrue(started.isDone() && !started.isCompletedExceptionally());
        events.clear();
    }

    /** @return what the future holds; it must be done: nothing here waits */
    private static <T> T done(CompletableFuture<T> future) {
        assertTrue(future.isDone(), "not done: " + future);
        return future.join();
    }

    /** Throws what the failed future holds; it must be done. */
    private static void failed(CompletableFuture<?> future) throws ExecutionException, InterruptedException {
        assertTrue(future.isDone(), "not done: " + future);
        future.get();
    }

    private FakeCopy copy(String id) {
        return created.stream().filter(c -> c.id.equals(id)).findFirst().orElseThrow();
    }

    private FakeCopy last() {
        return created.getLast();
    }

    private List<WorkerSnapshot> workers() {
        CompletableFuture<List<WorkerSnapshot>> workers = supervisor.workersAsync();
        loop.settle();
        return done(workers);
    }

    private WorkerSnapshot slot(String name) {
        return workers().stream().filter(w -> w.slot().equals(name)).findFirst().orElseThrow();
    }

    private <T extends ForklessEvent> List<T> events(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    @Test
    void startsTheServingCopiesAcceptingAndTheStandbysWarm() {
        running(2, 1);

        assertEquals(List.of("1", "2", "s1"), workers().stream().map(WorkerSnapshot::slot).toList());
        assertEquals(List.of(WorkerState.READY, WorkerState.READY, WorkerState.STANDBY),
                workers().stream().map(WorkerSnapshot::state).toList());
        assertTrue(copy("1").accepting && copy("2").accepting && copy("1").started);
        assertFalse(copy("3").accepting, "a standby does not accept");
    }

    @Test
    void aSlotThatAStepLostHalfWayLeftWithoutACopyIsFilled() {
        // a full heap fails the crash's step after its first effect (the copy drains) and before its decision
        // (the standby takes the slot); Scheduling tries it again, and it finds the copy draining: nothing to do
        running(2, 1);
        heapFullAt = ForklessEvent.Draining.class;
        copy("1").crash();
        assertThrows(OutOfMemoryError.class, loop::settle);
        assertTrue(copy("1").draining);

        // the safety net that runs after every mailbox task, the failed one too, fills the empty slot: the
        // standby takes it, a new standby starts
        WorkerSnapshot slot1 = slot("1");
        assertEquals("3", slot1.id());
        assertEquals(WorkerState.READY, slot1.state());
        assertTrue(copy("3").accepting);
        loop.advance(Supervisor.STANDBY_AFTER_PROMOTION);
        assertEquals(4, created.size());
        last().becomeReady();
        assertEquals(WorkerState.STANDBY, slot("s1").state(), workers().toString());
    }

    @Test
    void aStandbyWhoseRestartTheTimerLostIsStartedOnceThatRestartIsLongOverdue() {
        // a CI run: a copy filled the heap, the standby took its slot, and the timer could not queue the new
        // standby's start (no heap for the queue's node); the slot, marked as having a restart pending, stayed
        // empty for good
        running(2, 1);
        loop.loseTimersOf(Supervisor.STANDBY_AFTER_PROMOTION);
        copy("1").crash();
        loop.settle();
        loop.loseTimersOf(null);
        assertEquals("3", slot("1").id(), "the standby took the slot");

        loop.advance(Supervisor.STANDBY_AFTER_PROMOTION);
        assertEquals(3, created.size(), "the standby's start was lost");
        loop.advance(Supervisor.RESTART_LOST_AFTER.minusMillis(1)); // from the time the start was due
        slot("1"); // a mailbox task: the safety net runs after each
        assertEquals(3, created.size(), "a restart not yet overdue is waited for");
        loop.advance(Duration.ofMillis(2));
        slot("1");
        assertEquals(4, created.size(), "the safety net started it");
        last().becomeReady();
        assertEquals(WorkerState.STANDBY, slot("s1").state(), workers().toString());

        // the timer's step comes after all: the slot has its copy, no second one starts
        loop.releaseHeld();
        assertEquals(4, created.size(), workers().toString());
    }

    @Test
    void aDrainThatAStepLostHalfWayEndsAtItsTimeoutAndTheRuntimeCanStillStop() {
        // the step fails for want of heap after the copy was marked draining and before its drain's first
        // poll: before the safety net, the copy stayed draining for good, and a stop never ended
        running(2, 0);
        copy("1").openConnections = 3;
        heapFullAt = ForklessEvent.Draining.class;
        copy("1").crash();
        assertThrows(OutOfMemoryError.class, loop::settle);
        assertTrue(copy("1").draining);

        loop.advance(POLICY.drainTimeout().minusMillis(1));
        assertFalse(copy("1").unloaded, "its connections get the drain timeout");
        loop.advance(Duration.ofMillis(1));
        assertTrue(copy("1").unloaded, "unloaded at its drain timeout");
        assertEquals(List.of("1"), events(ForklessEvent.Drained.class).stream().map(ForklessEvent.Drained::workerId).toList());
        assertEquals(1, events(ForklessEvent.Unloaded.class).size());

        CompletableFuture<Integer> terminated = supervisor.stop("SIGTERM", 0);
        loop.advance(POLICY.drainTimeout());
        assertEquals(0, done(terminated));
    }

    @Test
    void aCopyThatFailsToBeginItsDrainIsReplacedAndUnloadedAtTheDrainTimeout() {
        // an isolate's drain reaches into its app's server (keep-alive off, its shutdown hooks), which may
        // fail; in the runtime the mailbox task that threw was logged and dropped (Scheduling), leaving the
        // copy draining for good: never unloaded, its slot never restarted, a stop never ended
        running(2, 0);
        copy("1").failDrain = new IllegalStateException("the app's server is gone");
        copy("1").openConnections = 2;
        copy("1").crash();
        loop.settle();

        assertEquals(List.of("1"), events(ForklessEvent.Draining.class).stream().map(ForklessEvent.Draining::workerId).toList());
        assertEquals(1, events(ForklessEvent.Restarting.class).size(), "the slot's decision is made as after any crash");
        loop.advance(Duration.ofMillis(100)); // the back-off
        assertEquals(3, created.size());
        last().becomeReady();
        loop.settle();
        assertEquals("3", slot("1").id());
        assertEquals(WorkerState.READY, slot("1").state());

        loop.advance(POLICY.drainTimeout());
        assertTrue(copy("1").unloaded, "unloaded at its drain timeout");
        assertEquals(2, events(ForklessEvent.Drained.class).getFirst().forcedConnections());

        copy("2").failCount = new IllegalStateException("no count");
        CompletableFuture<Integer> terminated = supervisor.stop("SIGTERM", 0);
        loop.advance(POLICY.drainTimeout().minusMillis(1));
        assertFalse(copy("2").unloaded, "a count that fails is not an empty copy: the drain timeout ends it");
        loop.advance(Duration.ofMillis(1));
        assertTrue(copy("2").unloaded && copy("3").unloaded);
        assertEquals(0, done(terminated));
    }

    @Test
    void anAppThatCannotStartFailsTheStartWithExitCode2() {
        startFailure = "no main class";
        CompletableFuture<Void> started = supervisor.startAsync(2, 0);
        loop.settle();

        ExecutionException failed = assertThrows(ExecutionException.class, () -> failed(started));
        ForklessException cause = assertInstanceOf(ForklessException.class, failed.getCause());
        assertEquals("no main class", cause.getMessage());
        assertEquals(2, cause.exitCode());
        assertEquals(2, done(supervisor.terminated()));
        assertTrue(created.stream().allMatch(c -> c.unloaded));
    }

    @Test
    void theBackoffGrowsWithEachRestartAndResetsAfterTheCopyServedLongEnough() {
        running(1, 0);

        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            FakeCopy serving = last();
            loop.advance(Duration.ofSeconds(1)); // stable: the crash-loop guard stays out of it
            serving.crash();
            loop.settle();
            Duration delay = events(ForklessEvent.Restarting.class).getLast().delay();
            delays.add(delay.toMillis());
            int before = created.size();
            loop.advance(delay.minusMillis(1));
            assertEquals(before, created.size(), "no restart before the back-off passed");
            loop.advance(Duration.ofMillis(1));
            assertEquals(before + 1, created.size(), "restarted once the back-off passed");
            last().becomeReady();
            loop.settle();
        }
        assertEquals(List.of(100L, 200L, 400L, 800L, 1000L), delays);

        loop.advance(POLICY.resetAfter());
        last().crash();
        loop.settle();
        ForklessEvent.Restarting reset = events(ForklessEvent.Restarting.class).getLast();
        assertEquals(1, reset.attempt());
        assertEquals(Duration.ofMillis(100), reset.delay());
        loop.advance(reset.delay());
        assertEquals(6, slot("1").restarts());
        assertEquals(WorkerState.STARTING, slot("1").state());
    }

    @Test
    void anAppOfSeveralTakesItsIdsFromTheRuntimeAndOnceAllItsSlotsErroredTellsItInsteadOfStopping() {
        java.util.concurrent.atomic.AtomicInteger ids = new java.util.concurrent.atomic.AtomicInteger(100);
        List<String> told = new ArrayList<>();
        supervisor.shareRuntime(ids::incrementAndGet, (reason, code) -> told.add(code + " " + reason));
        running(1, 0);
        assertEquals("101", created.getFirst().id, "the runtime's ids, unique across its apps");

        for (int i = 0; i < 4; i++) { // maxRestarts 3: the 4th unstable end in a row gives up
            holderOf("1").crash();
            loop.advance(Duration.ofSeconds(2));
        }
        assertEquals(List.of("101", "102", "103", "104"), created.stream().map(c -> c.id).toList());
        assertEquals(1, told.size(), told.toString());
        assertTrue(told.getFirst().startsWith("1 every copy errored"), told.toString());
        assertFalse(supervisor.terminated().isDone(), "the other apps serve on: this one keeps its errored slot");
        assertEquals(WorkerState.ERRORED, slot("1").state());
    }

    @Test
    void aSlotThatKeepsFailingSoonerThanTheMinimumUptimeIsErroredAndTheOthersServeOn() {
        running(2, 0);

        for (int i = 0; i < 4; i++) { // maxRestarts 3: the 4th unstable end in a row gives up
            FakeCopy copy = holderOf("1");
            copy.crash();
            loop.advance(Duration.ofSeconds(2)); // past any back-off, but never ready: unstable
        }

        ForklessEvent.Errored errored = events(ForklessEvent.Errored.class).getFirst();
        assertEquals("1", errored.slot());
        assertEquals(4, errored.unstableRestarts());
        assertEquals(WorkerState.ERRORED, slot("1").state());
        assertEquals(4, slot("1").restarts());
        assertEquals(WorkerState.READY, slot("2").state());
        assertFalse(supervisor.terminated().isDone(), "one slot still serves");
        int before = created.size();
        loop.advance(Duration.ofMinutes(1));
        assertEquals(before, created.size(), "an errored slot is not restarted");

        for (int i = 0; i < 5; i++) { // its first end is stable: it served long before
            holderOf("2").crash();
            loop.advance(Duration.ofSeconds(2));
        }
        assertEquals(1, done(supervisor.terminated()), "every slot errored: the runtime stops with 1");
    }

    @Test
    void aCopyThatServedLongerThanTheMinimumUptimeIsNotUnstable() {
        running(1, 0);

        for (int i = 0; i < 10; i++) {
            FakeCopy copy = holderOf("1");
            copy.becomeReady();
            loop.settle();
            loop.advance(POLICY.minUptime());
            copy.crash();
            loop.advance(Duration.ofSeconds(2));
        }
        assertTrue(events(ForklessEvent.Errored.class).isEmpty());
        assertEquals(10, slot("1").restarts());
    }

    @Test
    void aCopyThatExitsWithAStopExitCodeLeavesItsSlotStoppedOthersAreRestarted() {
        supervisor = supervisor(POLICY.withStopExitCodes(java.util.Set.of(0, 3)), Duration.ZERO);
        running(2, 1);

        holderOf("1").exit(3);
        loop.advance(Duration.ofMinutes(1));
        assertEquals(WorkerState.STOPPED, slot("1").state(), "no restart, and the standby does not take it");
        assertEquals("exited status=3", slot("1").lastExit().orElseThrow());
        assertEquals(WorkerState.STANDBY, slot("s1").state());
        assertTrue(events(ForklessEvent.Restarting.class).isEmpty());
        assertTrue(events(ForklessEvent.Promoted.class).isEmpty());

        FakeCopy two = holderOf("2");
        loop.advance(Duration.ofSeconds(2));
        two.exit(1); // not a stop code: the standby takes over at once
        loop.settle();
        assertEquals(1, events(ForklessEvent.Promoted.class).size());
        assertEquals(WorkerState.READY, slot("2").state());
        assertFalse(supervisor.terminated().isDone());

        holderOf("2").crash(); // a crash has no exit status: restarted after the back-off
        loop.settle();
        assertEquals(1, events(ForklessEvent.Restarting.class).size());
    }

    @Test
    void withoutAutorestartNoCopyIsReplacedAndTheRuntimeStopsWithZeroOnceNoneServes() {
        supervisor = supervisor(POLICY.withAutorestart(false), Duration.ZERO);
        running(2, 0);

        holderOf("1").crash();
        loop.advance(Duration.ofMinutes(1));
        assertEquals(WorkerState.STOPPED, slot("1").state());
        assertEquals(2, created.size(), "nothing restarted");
        assertFalse(supervisor.terminated().isDone(), "slot 2 still serves");
        CompletableFuture<dev.forkless.runtime.OperationResult> reload = supervisor.reload("test");
        loop.settle();
        assertEquals(3, created.size(), "a reload replaces the serving slot only, not the stopped one");
        last().becomeReady();
        loop.settle();
        assertTrue(done(reload).ok());

        holderOf("2").exit(0);
        loop.settle();
        assertEquals(0, done(supervisor.terminated()), "every slot stopped as the policy says: exit 0");
    }

    @Test
    void aStoppedAndAnErroredSlotEndTheRuntimeWithOne() {
        supervisor = supervisor(POLICY.withStopExitCodes(java.util.Set.of(0)), Duration.ZERO);
        running(2, 0);

        holderOf("1").exit(0);
        loop.settle();
        for (int i = 0; i < 4; i++) { // maxRestarts 3: the 4th unstable end in a row gives up
            holderOf("2").crash();
            loop.advance(Duration.ofSeconds(2));
        }
        assertEquals(1, done(supervisor.terminated()));
    }

    @Test
    void aFixedRestartDelayWaitsTheSameBeforeEveryRestart() {
        supervisor = supervisor(POLICY.withFixedDelay(Duration.ofMillis(300)), Duration.ZERO);
        running(1, 0);

        for (int i = 0; i < 4; i++) {
            loop.advance(Duration.ofSeconds(1));
            last().crash();
            loop.settle();
            Duration delay = events(ForklessEvent.Restarting.class).getLast().delay();
            assertEquals(Duration.ofMillis(300), delay, "restart " + (i + 1));
            int before = created.size();
            loop.advance(delay.minusMillis(1));
            assertEquals(before, created.size(), "no restart before the fixed delay passed");
            loop.advance(Duration.ofMillis(1));
            assertEquals(before + 1, created.size());
            last().becomeReady();
            loop.settle();
        }
    }

    /** @return the copy that holds the slot now */
    private FakeCopy holderOf(String slot) {
        return copy(slot(slot).id());
    }

    @Test
    void aReadyStandbyTakesOverACrashedSlotAtOnceAndANewStandbyStarts() {
        running(1, 1);
        FakeCopy crashed = copy("1");
        FakeCopy standby = copy("2");

        crashed.crash();
        loop.settle();

        ForklessEvent.Promoted promoted = events(ForklessEvent.Promoted.class).getFirst();
        assertEquals("2", promoted.workerId());
        assertEquals("1", promoted.slot());
        assertTrue(standby.accepting);
        assertTrue(events(ForklessEvent.Restarting.class).isEmpty(), "no back-off when a standby takes over");
        assertEquals("2", slot("1").id());
        assertEquals(WorkerState.READY, slot("1").state());
        assertEquals(1, slot("1").restarts());
        assertEquals("2", last().id, "the new standby waits while the promoted copy answers its first requests");
        loop.advance(Supervisor.STANDBY_AFTER_PROMOTION);
        FakeCopy newStandby = last();
        assertEquals("3", newStandby.id);
        assertFalse(newStandby.accepting);
        assertEquals(WorkerState.STARTING, slot("s1").state());
        assertTrue(crashed.draining && crashed.unloaded);

        newStandby.becomeReady();
        loop.settle();
        assertEquals(WorkerState.STANDBY, slot("s1").state());
    }

    @Test
    void aStandbyOfAModeTheRuntimeLeftIsNotPromotedTheSlotGetsACopyOfTheNewMode() {
        running(1, 1);
        FakeCopy standby = copy("2");
        otherMode.add("2"); // --escalate: new copies are processes, the standby is still an isolate

        copy("1").crash();
        loop.settle();

        assertTrue(events(ForklessEvent.Promoted.class).isEmpty(), "the isolate standby does not take the slot");
        assertFalse(standby.accepting);
        assertEquals(1, events(ForklessEvent.Restarting.class).size(), "the slot restarts as any slot without a standby");
        loop.advance(Duration.ofSeconds(1)); // the longest back-off
        FakeCopy replacement = last();
        assertEquals("3", replacement.id);
        assertTrue(replacement.accepting, "a new copy, made as the runtime makes them now");
    }

    @Test
    void everyCopyOfASlotHasItsInstanceNumberAStandbyTakesItsNewSlotsNumber() {
        running(3, 1);
        assertEquals(List.of(OptionalInt.of(0), OptionalInt.of(1), OptionalInt.of(2), OptionalInt.empty()),
                created.stream().map(c -> c.instance).toList());

        copy("2").crash(); // instance 1: the ready standby takes it over
        loop.settle();
        assertEquals(OptionalInt.of(1), copy("4").instance);
        loop.advance(Supervisor.STANDBY_AFTER_PROMOTION);
        assertEquals("5", last().id);
        assertEquals(OptionalInt.empty(), last().instance, "the new standby has none yet");

        copy("3").crash(); // instance 2, no standby ready: a new copy after the back-off
        loop.advance(Duration.ofSeconds(1));
        assertEquals("6", last().id);
        assertEquals(OptionalInt.of(2), last().instance);
        last().becomeReady();
        copy("5").becomeReady();
        loop.settle();
        assertEquals(List.of(0, 1, 2), instancesOfServingSlots());

        CompletableFuture<OperationResult> reload = supervisor.reload("test");
        for (int i = 0; i < 4 && !reload.isDone(); i++) {
            loop.settle();
            last().becomeReady();
            loop.settle();
        }
        assertTrue(done(reload).ok());
        assertEquals(10, created.size(), "every slot was replaced");
        assertEquals(List.of(0, 1, 2), instancesOfServingSlots(), "a reload keeps the numbers");
        assertEquals(OptionalInt.empty(), copy(slot("s1").id()).instance);

        CompletableFuture<OperationResult> down = supervisor.scale(2);
        loop.settle();
        assertTrue(done(down).ok());
        assertEquals(List.of(0, 1), instancesOfServingSlots(), "scaling down removes the highest numbers");
        CompletableFuture<OperationResult> up = supervisor.scale(4);
        loop.settle();
        created.stream().skip(10).forEach(FakeCopy::becomeReady);
        loop.settle();
        assertTrue(done(up).ok());
        assertEquals(List.of(0, 1, 2, 3), instancesOfServingSlots(), "scaling up adds the next ones");
    }

    /** @return the instance numbers of the serving slots' copies, in the slots' order */
    private List<Integer> instancesOfServingSlots() {
        return workers().stream().filter(w -> !w.slot().equals("-") && !w.slot().startsWith("s"))
                .map(w -> copy(w.id()).instance.orElseThrow()).toList();
    }

    @Test
    void aStandbyThatIsNotReadyYetIsNotPromoted() {
        CompletableFuture<Void> started = supervisor.startAsync(1, 1);
        loop.settle();
        copy("1").becomeReady();
        loop.settle();
        assertTrue(started.isDone());

        copy("1").crash();
        loop.settle();
        assertTrue(events(ForklessEvent.Promoted.class).isEmpty());
        assertEquals(1, events(ForklessEvent.Restarting.class).size());
    }

    @Test
    void scalingUpStartsNewSlotsAndAnswersOnceTheyAreReadyScalingDownDrainsTheNewest() {
        running(1, 1);

        CompletableFuture<OperationResult> up = supervisor.scale(3);
        loop.settle();
        assertFalse(up.isDone(), "answers once the new copies are ready");
        assertEquals(List.of("1", "2", "3", "s1"), workers().stream().map(WorkerSnapshot::slot).toList());
        copy("3").becomeReady();
        copy("4").becomeReady();
        loop.settle();
        assertEquals(new OperationResult(true, 2, ""), done(up));
        assertEquals(new ForklessEvent.Scaled(loop.now(), 1, 3), events(ForklessEvent.Scaled.class).getFirst());

        CompletableFuture<OperationResult> down = supervisor.scale(1);
        loop.settle();
        assertEquals(new OperationResult(true, 0, ""), done(down));
        assertTrue(copy("3").unloaded && copy("4").unloaded);
        assertFalse(copy("1").draining);
        assertEquals(List.of("1", "s1"), workers().stream().map(WorkerSnapshot::slot).toList());

        assertThrows(IllegalArgumentException.class, () -> supervisor.scale(0));
    }

    @Test
    void aScaleThatStartsACopyThatFailsSaysSo() {
        running(1, 0);

        CompletableFuture<OperationResult> up = supervisor.scale(2);
        loop.settle();
        last().exit(3);
        loop.settle();

        OperationResult result = done(up);
        assertFalse(result.ok());
        assertEquals("a new copy did not become ready: exited status=3", result.reason());
    }

    @Test
    void aReloadReplacesEverySlotOneAtATimeEachOldCopyDrainingOnceItsReplacementIsReady() {
        running(2, 1);

        CompletableFuture<OperationResult> reload = supervisor.reload("test");
        loop.settle();
        assertEquals(4, created.size(), "one new copy at a time");
        assertEquals("1", slot("1").id(), "the old copy serves until its replacement is ready");
        assertFalse(copy("1").draining);

        copy("4").becomeReady();
        loop.settle();
        assertEquals("4", slot("1").id());
        assertTrue(copy("1").draining && copy("1").unloaded);
        assertEquals(5, created.size());

        copy("5").becomeReady();
        loop.settle();
        assertFalse(last().accepting, "a standby's replacement does not accept");
        last().becomeReady();
        loop.settle();

        assertEquals(new OperationResult(true, 3, ""), done(reload));
        assertEquals(0, loop.pendingTimers(), "no ready timeout is left behind, holding a copy");
        assertEquals(List.of("4", "5", "6"), workers().stream().map(WorkerSnapshot::id).toList());
        assertEquals(WorkerState.STANDBY, slot("s1").state());
        assertEquals(1, slot("1").restarts(), "a replacement counts as a restart, as in PM2");
        assertTrue(events(ForklessEvent.Reloaded.class).getFirst().ok());
    }

    @Test
    void aReloadWhoseNewCopyFailsToStartAbortsAndTheOldCopiesServeOn() {
        running(2, 0);

        startFailure = "the new jar is broken";
        CompletableFuture<OperationResult> reload = supervisor.reload("test");
        loop.settle();

        OperationResult result = done(reload);
        assertFalse(result.ok());
        assertEquals(0, result.replaced());
        assertEquals("copy 3 failed to start: the new jar is broken", result.reason());
        assertEquals(List.of("1", "2"), workers().stream().map(WorkerSnapshot::id).toList());
        assertFalse(copy("1").draining || copy("2").draining);
        assertTrue(copy("3").unloaded);
        assertEquals(1, created.size() - 2, "the reload stopped at the first failure");
        assertFalse(events(ForklessEvent.Reloaded.class).getFirst().ok());
    }

    @Test
    void aReloadWhoseNewCopyCrashesAfterOneSlotKeepsTheRestAndSaysHowFarItGot() {
        running(2, 0);

        CompletableFuture<OperationResult> reload = supervisor.reload("test");
        loop.settle();
        copy("3").becomeReady();
        loop.settle();
        copy("4").crash();
        loop.settle();

        OperationResult result = done(reload);
        assertEquals(new OperationResult(false, 1, "copy 4 failed to start: crashed: java.lang.IllegalStateException: boom in 4"),
                result);
        assertEquals(List.of("3", "2"), workers().stream().map(WorkerSnapshot::id).toList());
        assertTrue(copy("4").unloaded);
        assertTrue(events(ForklessEvent.Restarting.class).isEmpty(), "a failed replacement is not restarted");
    }

    /** The ready timeout times the factor: how long a new copy that keeps starting gets in all. */
    private static final Duration READY_LIMIT = READY_TIMEOUT.multipliedBy(Supervisor.READY_LIMIT_FACTOR);

    @Test
    void aReloadWhoseNewCopyIsSlowerThanTheReadyTimeoutWaitsForItAndSucceeds() {
        running(1, 0);

        CompletableFuture<OperationResult> reload = supervisor.reload("test");
        loop.advance(READY_TIMEOUT.minusMillis(1));
        assertTrue(events(ForklessEvent.SlowStart.class).isEmpty(), "not slow before the ready timeout");
        loop.advance(Duration.ofMillis(1));

        assertFalse(reload.isDone(), "a copy still starting at the ready timeout is slow, not failed");
        assertEquals(List.of(new ForklessEvent.SlowStart(loop.now(), "2", dev.forkless.runtime.Mode.ISOLATE, READY_TIMEOUT, READY_LIMIT)),
                events(ForklessEvent.SlowStart.class));
        assertEquals("forkless isolate=2 event=slow-start waitedMs=3000 limitMs=30000",
                dev.forkless.runtime.log.EventLog.format(events(ForklessEvent.SlowStart.class).getFirst()));
        loop.advance(READY_LIMIT.minus(READY_TIMEOUT).minusMillis(1));
        assertFalse(reload.isDone());
        assertEquals("1", slot("1").id(), "the old copy serves while the new one starts");
        assertFalse(copy("1").draining);
        assertEquals(1, events(ForklessEvent.SlowStart.class).size(), "said once");

        copy("2").becomeReady();
        loop.settle();
        assertEquals(new OperationResult(true, 1, ""), done(reload));
        assertEquals("2", slot("1").id());
        assertTrue(copy("1").draining && copy("1").unloaded);
        assertEquals(0, loop.pendingTimers(), "no ready timer is left behind, holding a copy");
    }

    @Test
    void aReloadWhoseNewCopyIsNeverReadyAbortsAtTheHardLimitAndTheOldCopiesServeOn() {
        running(2, 0);

        CompletableFuture<OperationResult> reload = supervisor.reload("test");
        loop.advance(READY_LIMIT.minusMillis(1));
        assertFalse(reload.isDone());
        loop.advance(Duration.ofMillis(1));

        assertEquals(new OperationResult(false, 0, "copy 3 was not ready within 30000 ms"), done(reload));
        assertEquals(List.of("1", "2"), workers().stream().map(WorkerSnapshot::id).toList());
        assertFalse(copy("1").draining || copy("2").draining);
        assertTrue(copy("3").draining && copy("3").unloaded);
        assertEquals(3, created.size(), "the reload stopped at the first slot");
        assertEquals(1, events(ForklessEvent.SlowStart.class).size());
        assertEquals(0, loop.pendingTimers());
        copy("3").becomeReady(); // too late: changes nothing
        loop.settle();
        assertEquals("1", slot("1").id());
    }

    @Test
    void aSlowNewCopyThatThenCrashesAbortsTheReloadAtOnceNotAtTheHardLimit() {
        running(1, 0);

        CompletableFuture<OperationResult> reload = supervisor.reload("test");
        loop.advance(READY_TIMEOUT.multipliedBy(2));
        assertFalse(reload.isDone());
        copy("2").crash();
        loop.settle();

        assertEquals(new OperationResult(false, 0,
                "copy 2 failed to start: crashed: java.lang.IllegalStateException: boom in 2"), done(reload));
        assertEquals("1", slot("1").id());
        assertFalse(copy("1").draining);
        assertTrue(copy("2").unloaded);
        assertEquals(0, loop.pendingTimers(), "the hard-limit timer is cancelled");
        assertTrue(events(ForklessEvent.Restarting.class).isEmpty(), "a failed replacement is not restarted");
    }

    @Test
    void aNewCopyThatExitsBeforeTheReadyTimeoutAbortsARestartAtOnce() {
        running(1, 0);

        CompletableFuture<OperationResult> restart = supervisor.restart("1");
        loop.advance(Duration.ofMillis(1));
        copy("2").exit(1);
        loop.settle();

        assertEquals(new OperationResult(false, 0, "copy 2 failed to start: exited status=1"), done(restart));
        assertEquals("1", slot("1").id());
        assertTrue(events(ForklessEvent.SlowStart.class).isEmpty());
        assertEquals(0, loop.pendingTimers());
    }

    @Test
    void aScaleWaitsForASlowCopyAsLongAsAReloadWould() {
        Duration readyTimeout = Duration.ofSeconds(10); // its limit, 100 s, is past the 30 s a scale always waits
        supervisor = supervisor(POLICY, Duration.ZERO, readyTimeout);
        running(1, 0);

        CompletableFuture<OperationResult> up = supervisor.scale(3);
        loop.settle();
        copy("3").becomeReady();
        loop.advance(readyTimeout);
        assertEquals(List.of("2"), events(ForklessEvent.SlowStart.class).stream().map(ForklessEvent.SlowStart::workerId).toList(),
                "the copy still starting is said slow, the ready one is not");
        loop.advance(Duration.ofSeconds(100).minus(readyTimeout).minusMillis(1));
        assertFalse(up.isDone(), "a scale waits as long as a reload does");
        copy("2").becomeReady();
        loop.settle();
        assertEquals(new OperationResult(true, 2, ""), done(up));
        assertEquals(0, loop.pendingTimers());
        assertEquals(1, events(ForklessEvent.SlowStart.class).size());
    }

    @Test
    void reloadsAskedForWhileOneWaitsJoinIt() {
        running(1, 0);

        CompletableFuture<OperationResult> first = supervisor.reload("1");
        CompletableFuture<OperationResult> second = supervisor.reload("2");
        CompletableFuture<OperationResult> third = supervisor.reload("3");
        loop.settle();
        assertEquals(2, created.size(), "one reload at a time");
        last().becomeReady();
        loop.settle();
        assertTrue(done(first).ok());
        assertEquals(3, created.size(), "the two waiting reloads are one");
        last().becomeReady();
        loop.settle();

        assertTrue(done(second).ok());
        assertSame(done(second), done(third));
        assertEquals(2, events(ForklessEvent.Reloading.class).size());
    }

    @Test
    void restartReplacesOneCopyAndNamesAnUnknownId() {
        running(2, 0);

        CompletableFuture<OperationResult> restart = supervisor.restart("2");
        loop.settle();
        last().becomeReady();
        loop.settle();
        assertEquals(new OperationResult(true, 1, ""), done(restart));
        assertEquals(List.of("1", "3"), workers().stream().map(WorkerSnapshot::id).toList());

        CompletableFuture<OperationResult> unknown = supervisor.restart("42");
        loop.settle();
        assertEquals(new OperationResult(false, 0, "no copy with id 42"), done(unknown));
    }

    @Test
    void aDrainingCopyIsUnloadedOnceItsConnectionsEndOrAtTheDrainTimeout() {
        running(2, 0);
        FakeCopy idle = copy("1");
        FakeCopy busy = copy("2");
        idle.openConnections = 2;
        busy.openConnections = 7;

        supervisor.stop("test", 0);
        loop.advance(Duration.ofSeconds(1));
        assertTrue(idle.draining && busy.draining);
        assertFalse(idle.unloaded || busy.unloaded);
        assertEquals(List.of(WorkerState.DRAINING, WorkerState.DRAINING),
                workers().stream().map(WorkerSnapshot::state).toList());

        idle.openConnections = 0;
        loop.advance(Supervisor.POLL);
        assertTrue(idle.unloaded);
        assertFalse(busy.unloaded);

        loop.advance(POLICY.drainTimeout().minusSeconds(1).minus(Supervisor.POLL).minusMillis(1));
        assertFalse(busy.unloaded, "connections get the whole drain timeout");
        assertFalse(supervisor.terminated().isDone());
        loop.advance(Duration.ofMillis(1));
        assertTrue(busy.unloaded);
        ForklessEvent.Drained drained = events(ForklessEvent.Drained.class).stream()
                .filter(d -> d.workerId().equals("2")).findFirst().orElseThrow();
        assertEquals(POLICY.drainTimeout(), drained.took());
        assertEquals(7, drained.forcedConnections());
        assertEquals(0, done(supervisor.terminated()));
        assertTrue(loop.isShutdown());
    }

    @Test
    void aDrainingCopyWhoseCountIsNotKnownYetIsNotUnloadedOnTheCountItHadBefore() {
        running(2, 0);
        FakeCopy late = copy("1"); // a child JVM: its last stats said 0, but it took a connection since
        FakeCopy silent = copy("2"); // a child JVM that never answers the drain
        late.drainCounted = false;
        silent.drainCounted = false;

        supervisor.stop("test", 0);
        loop.advance(Duration.ofSeconds(1));
        assertTrue(late.draining && silent.draining);
        assertFalse(late.unloaded || silent.unloaded, "a count of 0 from before the drain is not trusted");

        late.openConnections = 1; // the child answered: it holds the connection it took
        late.drainCounted = true;
        loop.advance(Supervisor.POLL);
        assertFalse(late.unloaded, "its connection is served first");
        late.openConnections = 0;
        loop.advance(Supervisor.POLL);
        assertTrue(late.unloaded);

        loop.advance(POLICY.drainTimeout().minusSeconds(1).minus(Supervisor.POLL.multipliedBy(2)).minusMillis(1));
        assertFalse(silent.unloaded);
        loop.advance(Duration.ofMillis(1));
        assertTrue(silent.unloaded, "the drain timeout still bounds the wait");
        assertEquals(0, done(supervisor.terminated()));
    }

    @Test
    void aStopDuringAReloadEndsItAndStopsEveryCopyOldAndNew() {
        running(2, 1);

        CompletableFuture<OperationResult> reload = supervisor.reload("test");
        CompletableFuture<OperationResult> queued = supervisor.scale(4);
        loop.settle();
        FakeCopy incoming = last();
        assertEquals("4", incoming.id);

        CompletableFuture<Integer> terminated = supervisor.stop("SIGTERM", 0);
        loop.settle();

        assertFalse(done(reload).ok());
        assertEquals(new OperationResult(false, 0, "the runtime is stopping"), done(queued));
        assertEquals(0, done(terminated));
        assertEquals(4, created.size(), "nothing starts once stopping");
        assertTrue(created.stream().allMatch(c -> c.unloaded));
        incoming.becomeReady(); // too late
        assertEquals(List.of(), done(supervisor.workersAsync()));
        assertFalse(done(supervisor.reload("late")).ok());
    }

    @Test
    void aCrashWhileStoppingIsNotRestarted() {
        running(1, 0);
        copy("1").openConnections = 1;

        supervisor.stop("test", 0);
        loop.settle();
        copy("1").crash();
        loop.advance(Duration.ofSeconds(10));

        assertEquals(1, created.size());
        assertEquals(0, done(supervisor.terminated()));
    }

    @Test
    void theWatchdogReplacesAHungCopy() {
        supervisor = supervisor(POLICY, Duration.ofSeconds(2));
        running(1, 1);

        copy("1").hung = "a request has been in flight for 2500 ms";
        loop.advance(Duration.ofMillis(500));

        ForklessEvent.Hung hung = events(ForklessEvent.Hung.class).getFirst();
        assertEquals("1", hung.workerId());
        assertEquals("2", slot("1").id());
        assertTrue(copy("1").unloaded);
    }

    @Test
    void aBindFailureBeforeAnythingServedStopsTheRuntimeWithExitCode2() {
        CompletableFuture<Void> started = supervisor.startAsync(1, 0);
        loop.settle();
        copy("1").failToBind();
        loop.settle();

        ExecutionException failed = assertThrows(ExecutionException.class, () -> failed(started));
        assertEquals("address in use", failed.getCause().getMessage());
        assertEquals(2, done(supervisor.terminated()));
    }
}
