package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An {@code OutOfMemoryError} that the app catches (as Helidon, Netty and Tomcat do in their request
 * loops) restarts the copy that caught it: {@code testapps.OomApp} allocates until the heap runs out in a
 * request handler and answers {@code 500}; in isolate mode the runtime logs {@code event=oom-restart} for
 * that copy and replaces it, draining it; in process mode the child JVM exits at the error
 * ({@code -XX:+ExitOnOutOfMemoryError}) and its slot is restarted. Meanwhile keep-alive clients load
 * both copies: those of a copy the error did not reach see no failed request, and the runtime keeps serving.
 */
class OutOfMemoryIT {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"isolate, false", "process, true"})
    void aCopyThatCatchesAnOutOfMemoryErrorIsReplaced(String mode, boolean keep) throws Exception {
        Path jar = oomApp(dir.resolve("oom-app.jar"));
        try (RuntimeProcess runtime = RuntimeProcess.startWithJvmArgs(List.of("-Xmx128m"),
                "--mode", mode, "--isolates", "2", "--standby", "0", "--jvm-arg", "-Xmx64m",
                jar.toString(), "0", "127.0.0.1")) {
            InetSocketAddress address = runtime.awaitReady();
            try (Load load = new Load(address, 4)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> load.copies().size() == 2);
                Http oom = new Http(address);
                String copy = oom.send("/", false).body().trim().substring("hello ".length());
                String replaced;
                if (mode.equals("isolate")) {
                    try {
                        Http.Response caught = oom.send(keep ? "/oom?keep=true" : "/oom", true);
                        assertEquals(500, caught.status(), caught.body());
                        assertTrue(caught.body().startsWith("caught java.lang.OutOfMemoryError"), caught.body());
                    } catch (IOException lost) {
                        // the handler caught it, but the JDK server's own allocations for the answer may fail too
                    }
                    // the copy that caught it is replaced; when the JVM gave the same error to one of the copy's
                    // threads that does not catch it (the JDK server's dispatcher) first, as a crash
                    replaced = awaitLine(runtime, l -> l.contains("isolate=" + copy + " event=oom-restart")
                            || l.contains("isolate=" + copy + " event=crashed cause=\"java.lang.OutOfMemoryError"));
                    runtime.awaitLine(l -> l.contains("isolate=" + copy + " event=drained"), Duration.ofSeconds(60));
                } else {
                    // the child exits at the error, before the app's handler runs: no answer
                    assertThrows(IOException.class, () -> oom.send(keep ? "/oom?keep=true" : "/oom", true));
                    replaced = runtime.awaitLine(l -> l.contains("process=" + copy + " event=exited status=3"),
                            Duration.ofSeconds(30));
                }
                oom.close();
                // the replacement is ready: 3 copies have been in all (4 when the JVM gave the error to the other
                // copy too, whose allocation came at the wrong moment: one heap; it is replaced the same way)
                // (a copy may log both oom-restart and crashed: its handler caught the error and another of its
                // threads did not; it counts once)
                await().atMost(Duration.ofSeconds(60)).until(() -> runtime.count(l -> l.contains(" event=ready")) >= 3
                        && runtime.count(l -> l.contains(" event=ready")) >= 2 + reached(runtime).size());
                long before = load.ok();
                await().atMost(Duration.ofSeconds(30)).until(() -> load.ok() > before + 100);
                load.close();
                System.out.println("OutOfMemoryIT " + mode + ": copy " + copy + " replaced (" + replaced + "); " + load.summary());
                // the copies the error reached (the one that filled the heap, and any other whose allocation
                // came at that moment: one heap) may lose the requests on their connections; no other copy may
                // (a copy whose handler answered 500 caught the error too, whether or not its report got through)
                Set<String> hit = new java.util.HashSet<>(reached(runtime));
                hit.add(copy);
                hit.addAll(load.answeredWithAnError());
                assertTrue(load.failedBesides(hit) == 0, replaced + "\n" + load.summary() + "\n" + runtime.output());
            }
            assertTrue(runtime.process().isAlive(), runtime.output());
        }
    }

    private static final java.util.regex.Pattern REACHED = java.util.regex.Pattern.compile(
            "(?:isolate|process)=(\\S+) event=(?:oom-restart|crashed cause=\"java.lang.OutOfMemoryError|exited status=3)");

    /** @return the copies the error reached (caught, crashed of it, or exited at it), each once */
    private static Set<String> reached(RuntimeProcess runtime) {
        Set<String> ended = new java.util.HashSet<>();
        runtime.lines().forEach(l -> {
            java.util.regex.Matcher m = REACHED.matcher(l);
            if (m.find()) {
                ended.add(m.group(1));
            }
        });
        return ended;
    }

    private static String awaitLine(RuntimeProcess runtime, java.util.function.Predicate<String> matching) {
        return runtime.awaitLine(matching, Duration.ofSeconds(30));
    }

    /**
     * A copy that fills the whole shared heap with what its statics keep (the demo's {@code /leak}, no
     * {@code --max-memory}): the warm standby takes its slot at once, the full copy drains and is unloaded,
     * which frees the heap, and the runtime goes on: a new standby gets ready, the copies answer, and
     * SIGTERM still stops it. (The heap stayed full before: the runtime's own steps failed for want of
     * heap, the drain never ended, and the runtime no longer stopped.)
     */
    @org.junit.jupiter.api.Test
    void aCopyThatFillsTheHeapIsReplacedAndTheRuntimeRecovers() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demoWithJvmArgs(List.of("-Xmx256m"),
                "--isolates", "2", "--standby", "1", "--admin", "off")) {
            InetSocketAddress address = runtime.awaitReady();
            String full;
            try (Http leaking = new Http(address)) {
                full = new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(leaking.send("/whoami", false).body()).get("isolate").asText();
                for (int i = 0; i < 100; i++) {
                    try {
                        if (leaking.send("/leak?mb=16", false).closed()) {
                            break; // the full copy drains: its connection ends
                        }
                    } catch (IOException ended) {
                        break;
                    }
                }
            }
            // caught by the app's request loop (oom-restart), or first thrown in one of its threads that does
            // not catch it (a crash): replaced either way
            awaitLine(runtime, l -> l.contains("isolate=" + full + " event=oom-restart")
                    || l.contains("isolate=" + full + " event=crashed cause=\"java.lang.OutOfMemoryError"));
            awaitLine(runtime, l -> l.contains("isolate=" + full + " event=unloaded"));
            await().atMost(Duration.ofSeconds(60)).until(() -> runtime.count(l -> l.contains(" event=ready")) >= 4);
            Set<String> answering = ConcurrentHashMap.newKeySet();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                answering.add(new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(Http.get(address, "/whoami").body()).get("isolate").asText());
                return answering.size() == 2;
            });
            assertTrue(!answering.contains(full), answering + " answered; the full copy was " + full);
            runtime.terminate();
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(30)), runtime.tail(40));
        }
    }

    /** A jar of {@code testapps.OomApp} alone. */
    private static Path oomApp(Path jar) throws IOException {
        Path classes;
        try {
            classes = Path.of(testapps.OomApp.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, testapps.OomApp.class.getName());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            String name = testapps.OomApp.class.getName().replace('.', '/') + ".class";
            out.putNextEntry(new JarEntry(name));
            out.write(Files.readAllBytes(classes.resolve(name)));
            out.closeEntry();
        }
        return jar;
    }

    /**
     * Keep-alive clients of {@code GET /}; each answer names the copy that served it, so a failure is
     * counted for the copy that served the connection's last answer.
     */
    private static final class Load implements AutoCloseable {
        private final Map<String, AtomicLong> failed = new ConcurrentHashMap<>();
        private final Set<String> copies = ConcurrentHashMap.newKeySet();
        private final Set<String> failures = ConcurrentHashMap.newKeySet();
        private final Set<String> erred = ConcurrentHashMap.newKeySet();
        private final AtomicLong ok = new AtomicLong();
        private final List<Thread> threads = new ArrayList<>();
        private final long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
        private volatile boolean stopped;

        Load(InetSocketAddress address, int connections) {
            for (int i = 0; i < connections; i++) {
                threads.add(Thread.ofPlatform().daemon(true).name("load-" + i).start(() -> run(address)));
            }
        }

        private void run(InetSocketAddress address) {
            Http http = new Http(address);
            String last = "?";
            try {
                while (!stopped && System.nanoTime() < deadline) {
                    try {
                        Http.Response r = http.send("/", false);
                        if (r.status() == 200) {
                            last = r.body().trim().substring("hello ".length());
                            copies.add(last);
                            ok.incrementAndGet();
                            if (copies.size() < 2) {
                                // a child JVM may take every connection opened at once: new ones until both
                                // copies are seen
                                http.close();
                            }
                        } else {
                            erred.add(last);
                            fail(last, "status " + r.status() + " " + r.body().trim());
                        }
                    } catch (IOException | RuntimeException e) {
                        fail(last, e.toString());
                        http.close();
                    }
                }
            } finally {
                http.close();
            }
        }

        private void fail(String copy, String why) {
            failed.computeIfAbsent(copy, c -> new AtomicLong()).incrementAndGet();
            failures.add(copy + ": " + why);
        }

        Set<String> copies() {
            return copies;
        }

        /** @return the copies that answered {@code 500}: the app's handler caught an error there */
        Set<String> answeredWithAnError() {
            return erred;
        }

        long ok() {
            return ok.get();
        }

        long failedBesides(Set<String> copies) {
            return failed.entrySet().stream().filter(e -> !copies.contains(e.getKey()))
                    .mapToLong(e -> e.getValue().get()).sum();
        }

        String summary() {
            return "ok=" + ok + " failed=" + failed + " copies=" + copies + " failures=" + failures;
        }

        @Override
        public void close() throws InterruptedException {
            stopped = true;
            for (Thread t : threads) {
                t.join();
            }
        }
    }
}
