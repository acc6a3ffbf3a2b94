package dev.forkless.runtime.examples;

import dev.forkless.runtime.examples.CompatibilityMatrix.Entry;
import dev.forkless.runtime.examples.Expectation.KnownFailure;
import dev.forkless.runtime.examples.Expectation.Serves;
import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each example app (examples/, and the demo), in each mode, run by the real runtime.jar as a user runs it:
 * {@code java -jar runtime.jar --isolates 2 [--mode process] app.jar --port P}. What each combination must do
 * comes from {@link CompatibilityMatrix}, the code of docs/compatibility.md. One runtime per combination runs
 * every scenario in turn: serves from 2 copies, a crash and an exit under 16 keep-alive connections, a rolling
 * reload, SIGTERM.
 */
class ExamplesIT {

    private static final Duration DRAIN = Duration.ofSeconds(2);
    private static final int CONNECTIONS = 16;
    /**
     * The JVM options of the runtime and (in process mode) of each child: C1 only and the serial collector
     * cut the CPU that cold starts of these frameworks cost on 2 cores (nothing here measures throughput or
     * GC). {@code -Dforkless.examples.defaultJvm=true} runs both with the JVM's defaults instead, as a user
     * would, for the start times of docs/compatibility.md.
     */
    private static final List<String> CHEAP_JVM = Boolean.getBoolean("forkless.examples.defaultJvm") ? List.of()
            : List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto");

    /** The matrix; {@code -Dforkless.examples=vertx,javalin:process} runs only those apps (or app:mode). */
    static Stream<Entry> matrix() {
        String only = System.getProperty("forkless.examples", "");
        Set<String> names = only.isBlank() ? Set.of() : Set.of(only.split(","));
        return CompatibilityMatrix.entries().stream().filter(e -> names.isEmpty()
                || names.contains(e.app().name()) || names.contains(e.app().name() + ":" + e.mode()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrix")
    void behavesAsTheMatrixSays(Entry entry) throws Exception {
        int port = freePort();
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        List<String> args = new ArrayList<>(List.of("--mode", entry.mode(), "--isolates", "2", "--standby", "0",
                "--admin", "off", "--ready-timeout", "60s",
                // the CLI holds its event lines while starting, until the start ends: a copy that crashes at
                // start gives up after 4 crashes (not 17), so a known failure's cause shows in seconds
                "--max-restarts", "3", "--drain-timeout", DRAIN.toSeconds() + "s",
                entry.app().path().toString(), "--port", String.valueOf(port)));
        args.addAll(entry.app().args());
        if (entry.mode().equals("process")) {
            CHEAP_JVM.forEach(option -> args.addFirst("--jvm-arg=" + option));
        }
        long start = System.nanoTime();
        try (RuntimeProcess runtime = RuntimeProcess.startWithJvmArgs(CHEAP_JVM, args.toArray(String[]::new))) {
            switch (entry.expected()) {
                case Serves serves -> serves(entry, serves, runtime, address);
                case KnownFailure known -> failsAsKnown(entry, known, runtime, address);
            }
        } finally {
            // what docs/compatibility.md reports: read it in the test's output
            System.out.printf("examples: %s took %d s%n", entry, Duration.ofNanos(System.nanoTime() - start).toSeconds());
        }
    }

    private static void serves(Entry entry, Serves serves, RuntimeProcess runtime, InetSocketAddress address)
            throws Exception {
        long start = System.nanoTime();
        await().atMost(Duration.ofSeconds(120))
                .until(() -> runtime.hasLine(l -> l.startsWith("forkless ready")) || !runtime.process().isAlive());
        assertTrue(runtime.process().isAlive(), () -> "runtime ended:\n" + runtime.output());
        Set<String> before = copiesServing(entry.app(), address, Duration.ofSeconds(60));
        assertEquals(2, before.size(), before::toString);
        System.out.printf("examples: %s ready: %d ms%n", entry, millisSince(start));
        String nativeTransport = entry.app().args().contains("--epoll") ? "epoll"
                : entry.app().args().contains("--io-uring") ? "io_uring" : null;
        if (nativeTransport != null) {
            // the app's epoll or io_uring call sites run on NIO (NettyNativeToNio): said once by each of the 2 copies
            // (the example's class names both transports: "epoll/io_uring")
            java.util.function.Predicate<String> says = l -> l.contains("the app asks for Netty's native ")
                    && l.contains(nativeTransport) && l.contains("it runs on NIO");
            assertEquals(2, runtime.count(says), runtime::output);
            runtime.lines().stream().filter(says).findFirst()
                    .ifPresent(line -> System.out.printf("examples: %s says: %s%n", entry, line));
        }

        faultUnderLoad(entry, runtime, address, "/crash", "event=crashed", serves.crashMayFail());
        faultUnderLoad(entry, runtime, address, "/exit", "event=exited status=3", serves.exitMayFail());

        long reloads = runtime.count(l -> l.contains("event=reloaded"));
        long drainedBefore = runtime.count(isDrained());
        long reloadStart = System.nanoTime();
        try (KeepAliveLoad load = loaded(address)) {
            long faultAt = System.nanoTime();
            long faultMs = load.millisSinceStart();
            assertEquals(0, new ProcessBuilder("kill", "-HUP", String.valueOf(runtime.pid())).start().waitFor());
            try {
                await().atMost(Duration.ofSeconds(120)).until(() -> runtime.count(l -> l.contains("event=reloaded")) > reloads);
                // and until both old copies drained: what their drains cut is counted
                await().atMost(DRAIN.plusSeconds(30)).until(() -> runtime.count(isDrained()) >= drainedBefore + 2);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(entry + ": the reload did not end in 120 s; the runtime said:\n" + runtime.output(), e);
            }
            load.close();
            System.out.printf("examples: %s reload: %s (%d ms)%n", entry, load.summary(), millisSince(reloadStart));
            printTimeline(entry, "reload", runtime, faultAt, faultMs, load);
            assertTrue(runtime.hasLine(l -> l.contains("event=reloaded ok=true")), runtime::output);
            assertTrue(load.failed() <= serves.reloadMayFail(), () -> "reload: " + load.summary());
        }
        Set<String> after = copiesServing(entry.app(), address, Duration.ofSeconds(60));
        assertTrue(after.stream().noneMatch(before::contains), () -> "new copies serve: before " + before + " after " + after);
        // after the reload: the copies that exit paths leave half-unloaded in some rows (leftoverThreads) do not
        // slow the reload's starts
        String haltUnloaded = exitByEveryPath(entry, runtime, address);

        List<ProcessHandle> children = runtime.process().descendants().toList();
        long stopStart = System.nanoTime();
        runtime.terminate();
        int status = runtime.awaitExit(DRAIN.plusSeconds(30));
        System.out.printf("examples: %s stop: %d ms%n", entry, millisSince(stopStart));
        assertEquals(0, status, runtime::output);
        for (ProcessHandle child : children) {
            assertFalse(child.isAlive(), () -> "left behind: " + child.pid() + " " + child.info());
        }
        noThreadsLeftBehind(entry, runtime, haltUnloaded);
    }

    /**
     * {@code /exit?how=...} by each path of {@link CompatibilityMatrix#exitPaths} in turn, one at a time and
     * without load (after the direct exit under load and the reload): each ends one copy, whose exit the runtime
     * reports (not a crash, not the JVM's end); that copy is unloaded and replaced, while the other copy
     * serves on with the same id.
     *
     * @return the {@code event=unloaded} line of the copy that halted
     */
    private static String exitByEveryPath(Entry entry, RuntimeProcess runtime, InetSocketAddress address)
            throws IOException {
        String haltUnloaded = null;
        for (String how : CompatibilityMatrix.exitPaths(entry.mode())) {
            long start = System.nanoTime();
            Set<String> before = copiesServing(entry.app(), address, Duration.ofSeconds(60));
            long exits = runtime.count(l -> l.contains("event=exited"));
            long crashes = runtime.count(l -> l.contains("event=crashed"));
            long ready = runtime.count(isReady());
            assertEquals(entry.app().faultCode(), Http.get(address, "/exit?how=" + how).status(), how);
            String exited = replaced(entry, runtime, how, exits, ready);
            assertTrue(exited.endsWith("event=exited status=3"), () -> how + ": " + exited);
            assertTrue(runtime.process().isAlive(), () -> how + ": the runtime survives:\n" + tail(runtime));
            Set<String> after = copiesServing(entry.app(), address, Duration.ofSeconds(60));
            Set<String> kept = new HashSet<>(after);
            kept.retainAll(before);
            assertEquals(1, kept.size(),
                    () -> how + ": one copy ended, the other served on: before " + before + " after " + after);
            assertEquals(exits + 1, runtime.count(l -> l.contains("event=exited")),
                    () -> how + " ended one copy:\n" + tail(runtime));
            assertEquals(crashes, runtime.count(l -> l.contains("event=crashed")),
                    () -> how + " is an exit, not a crash:\n" + tail(runtime));
            String worker = exited.split(" ")[1];
            String unloaded = runtime.lines().stream().filter(l -> l.startsWith("forkless " + worker + " event=unloaded"))
                    .findFirst().orElseThrow();
            System.out.printf("examples: %s /exit?how=%s: %d ms, %s%n", entry, how, millisSince(start), unloaded);
            if (how.equals("halt")) {
                haltUnloaded = unloaded;
            }
        }
        return haltUnloaded;
    }

    /** Awaits one more exit than {@code exits}, that copy's unload and one more ready copy; @return the exit's line */
    private static String replaced(Entry entry, RuntimeProcess runtime, String how, long exits, long ready) {
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> runtime.count(l -> l.contains("event=exited")) > exits);
            String exited = runtime.lines().stream().filter(l -> l.contains("event=exited")).skip(exits)
                    .findFirst().orElseThrow();
            String worker = exited.split(" ")[1]; // forkless isolate=ID event=exited status=N
            runtime.awaitLine(l -> l.startsWith("forkless " + worker + " event=unloaded"), Duration.ofSeconds(30));
            await().atMost(Duration.ofSeconds(90)).until(() -> runtime.count(isReady()) > ready);
            return exited;
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(entry + ": /exit?how=" + how + " did not end and replace one copy; "
                    + "the runtime said:\n" + tail(runtime), e);
        }
    }

    /**
     * Every copy unloaded in the run (crash, exits, reload, stop) left no thread running, except in the rows
     * that {@link CompatibilityMatrix#leavesThreads} names, where some unload still does (only the halted
     * copy's, where it says so).
     */
    private static void noThreadsLeftBehind(Entry entry, RuntimeProcess runtime, String haltUnloaded) {
        List<String> left = runtime.lines().stream()
                .filter(l -> l.contains("event=unloaded") && l.contains("leftoverThreads=")).toList();
        System.out.printf("examples: %s unloads with threads left: %d of %d %s%n", entry, left.size(),
                runtime.count(l -> l.contains("event=unloaded")), left);
        CompatibilityMatrix.ThreadsLeft known = CompatibilityMatrix.leavesThreads(entry);
        if (known == null) {
            assertEquals(List.of(), left, entry + ": an unloaded copy left threads running");
        } else if (known.onlyAfterHalt()) {
            assertEquals(List.of(String.valueOf(haltUnloaded)), left, () -> entry + ": only the halted copy leaves "
                    + "threads (" + known.which() + "); when none does, remove the row from "
                    + "CompatibilityMatrix.leavesThreads and docs/compatibility.md");
        } else if (left.isEmpty()) {
            // whether these servers' threads end within the unload grace depends on the machine's speed:
            // not asserted either way, but said, so that a fix is noticed
            System.out.printf("examples: %s left no thread behind in this run (listed in "
                    + "CompatibilityMatrix.leavesThreads: %s)%n", entry, known.which());
        }
    }

    /** One copy crashes or exits while 16 keep-alive connections send requests; the replacement serves. */
    private static void faultUnderLoad(Entry entry, RuntimeProcess runtime, InetSocketAddress address, String path,
                                       String event, int mayFail) throws Exception {
        long events = runtime.count(l -> l.contains(event));
        long ready = runtime.count(isReady());
        long drained = runtime.count(isDrained());
        long start = System.nanoTime();
        try (KeepAliveLoad load = loaded(address)) {
            long faultAt = System.nanoTime();
            long faultMs = load.millisSinceStart();
            assertEquals(entry.app().faultCode(), Http.get(address, path).status());
            await().atMost(Duration.ofSeconds(20)).until(() -> runtime.count(l -> l.contains(event)) > events);
            try {
                await().atMost(Duration.ofSeconds(90)).until(() -> runtime.count(isReady()) > ready);
            } catch (ConditionTimeoutException e) {
                throw new AssertionError(entry + " " + path + ": no replacement ready in 90 s; the runtime said:\n"
                        + tail(runtime), e);
            }
            // the load runs until the ended copy's drain is over, so what its drain cuts is counted
            await().atMost(DRAIN.plusSeconds(30)).until(() -> runtime.count(isDrained()) > drained);
            load.close();
            System.out.printf("examples: %s %s: %s (%d ms)%n", entry, path, load.summary(), millisSince(start));
            printTimeline(entry, path, runtime, faultAt, faultMs, load);
            assertTrue(load.failed() <= mayFail, () -> path + ": " + load.summary());
        }
        assertTrue(runtime.process().isAlive(), "the runtime survives");
        assertEquals(2, copiesServing(entry.app(), address, Duration.ofSeconds(60)).size());
    }

    /** Where the failures fell: the fault at +0 on the runtime's events, and the load's failures shifted to it. */
    private static void printTimeline(Entry entry, String fault, RuntimeProcess runtime, long faultAt, long faultMs,
                                      KeepAliveLoad load) {
        if (load.failed() > 0) {
            System.out.printf("examples: %s %s: fault at load +%d ms; events %s%n", entry, fault, faultMs,
                    runtime.eventsSince(faultAt));
        }
    }

    private static Predicate<String> isDrained() {
        return l -> l.matches("forkless (isolate|process)=\\d+ event=drained.*");
    }

    private static Predicate<String> isReady() {
        return l -> l.matches("forkless (isolate|process)=\\d+ event=ready.*");
    }

    private static KeepAliveLoad loaded(InetSocketAddress address) {
        KeepAliveLoad load = KeepAliveLoad.start(address, "/", CONNECTIONS, Duration.ofSeconds(180));
        await().atMost(Duration.ofSeconds(20)).until(() -> load.ok() > 100);
        return load;
    }

    /** The known failure still shows, and the app does not serve from 2 copies. */
    private static void failsAsKnown(Entry entry, KnownFailure known, RuntimeProcess runtime, InetSocketAddress address) {
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> runtime.hasLine(l -> l.contains(known.signature()))
                    || !runtime.process().isAlive());
        } catch (ConditionTimeoutException e) {
            // judged below
        }
        boolean servesFromTwo = servesFromTwo(entry.app(), address);
        if (servesFromTwo) {
            fail(entry + " serves from 2 copies now: make its entry Serves in CompatibilityMatrix and "
                    + "docs/compatibility.md (it was a known failure: " + known.because() + ")");
        }
        if (!runtime.hasLine(l -> l.contains(known.signature())) && runtime.process().isAlive()) {
            // the CLI holds its event lines until the start ends; stopping it prints them
            runtime.terminate();
            try {
                runtime.awaitExit(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        assertTrue(runtime.hasLine(l -> l.contains(known.signature())), () -> entry + " fails, but not as known ("
                + known.signature() + ": " + known.because() + "); the runtime said:\n" + tail(runtime));
    }

    private static boolean servesFromTwo(ExampleApp app, InetSocketAddress address) {
        try {
            return copiesServing(app, address, Duration.ofSeconds(5)).size() >= 2;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** The per-copy ids answered on fresh connections, until 2 distinct ones answered. */
    private static Set<String> copiesServing(ExampleApp app, InetSocketAddress address, Duration atMost) {
        Set<String> ids = new HashSet<>();
        await().atMost(atMost).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(() -> {
            Http.Response response = Http.get(address, app.whoPath());
            if (response.status() == 200) {
                ids.add(response.body().trim());
            }
            return ids.size() >= 2;
        });
        return ids;
    }

    private static String tail(RuntimeProcess runtime) {
        List<String> lines = runtime.lines();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }

    private static long millisSince(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos).toMillis();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
