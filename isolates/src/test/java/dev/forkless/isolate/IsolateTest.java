package dev.forkless.isolate;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the rewritten call sites do inside an isolate, with small apps and real sockets. */
class IsolateTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void dispatchUncaughtExceptions() {
        UncaughtExceptionDispatcher.install();
    }

    private Isolate isolate(String id, String mainClass, TestApps.RecordingHost host, boolean accepting) {
        return Isolate.builder().id(id).app(AppJar.open(TestApps.jar(dir, mainClass))).host(host)
                .accepting(accepting).build();
    }

    @Test
    void systemExitEndsTheIsolateNotTheJvm() throws Exception {
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = isolate("1", "ExitApp", host, true);
            isolate.start(List.of("7"));
            assertEquals(7, host.exited.get(10, TimeUnit.SECONDS));
            isolate.unload(Duration.ofSeconds(30));
            // the thread that called exit unwound without running the code after it
            assertThrows(TimeoutException.class, () -> host.crashed.get(200, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void exitRunsTheIsolatesShutdownHooksAtUnload() throws Exception {
        Path marker = dir.resolve("hook");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = isolate("1", "HookApp", host, true);
            isolate.start(List.of(marker.toString(), "exit"));
            assertEquals(4, host.exited.get(10, TimeUnit.SECONDS));
            assertFalse(Files.exists(marker), "hooks run at unload, not at registration");
            isolate.unload(Duration.ofSeconds(30));
            assertEquals("hook ran", Files.readString(marker));
        }
    }

    @Test
    void getenvAnswersWithTheIsolatesOwnEnvironment() throws Exception {
        Path seen = dir.resolve("env");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = Isolate.builder().id("1").app(AppJar.open(TestApps.jar(dir, "EnvApp"))).host(host)
                    .environment(java.util.Map.of("FORKLESS_TEST", "isolated", "PATH", "/nowhere")).build();
            isolate.start(List.of(seen.toString()));
            assertEquals(0, host.exited.get(10, TimeUnit.SECONDS));
            isolate.unload(Duration.ofSeconds(30));
            assertEquals("isolated,isolated,true,/nowhere", Files.readString(seen));
        }
    }

    @Test
    void getenvWithoutAnEnvironmentIsTheJvms() throws Exception {
        Path seen = dir.resolve("env");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = isolate("1", "EnvApp", host, true);
            isolate.start(List.of(seen.toString()));
            assertEquals(0, host.exited.get(10, TimeUnit.SECONDS));
            isolate.unload(Duration.ofSeconds(30));
            assertEquals("null,null," + System.getenv().containsKey("PATH") + "," + System.getenv("PATH"),
                    Files.readString(seen));
        }
    }

    @Test
    void haltEndsTheIsolateWithoutItsShutdownHooks() throws Exception {
        Path marker = dir.resolve("hook");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = isolate("1", "HookApp", host, true);
            isolate.start(List.of(marker.toString(), "halt"));
            assertEquals(5, host.exited.get(10, TimeUnit.SECONDS));
            isolate.unload(Duration.ofSeconds(30));
            assertFalse(Files.exists(marker));
        }
    }

    @Test
    void anExceptionEscapingMainIsACrashOfThatIsolate() throws Exception {
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate isolate = isolate("1", "ThrowingApp", host, true);
            isolate.start(List.of());
            assertTrue(host.crashed.get(10, TimeUnit.SECONDS).contains("main failed on purpose"));
            isolate.unload(Duration.ofSeconds(30));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"socket", "channel"})
    void twoIsolatesShareOneListeningSocketAndCompeteInAccept(String api) throws Exception {
        try (TestApps.RecordingHost first = new TestApps.RecordingHost()) {
            TestApps.RecordingHost second = new TestApps.RecordingHost(first.sockets());
            Isolate a = isolate("a", "SocketApp", first, true);
            Isolate b = isolate("b", "SocketApp", second, true);
            a.start(List.of(api, "0"));
            first.ready.get(10, TimeUnit.SECONDS);
            b.start(List.of(api, "0"));
            second.ready.get(10, TimeUnit.SECONDS);
            assertEquals(1, first.sockets().size(), "both bound port 0 of one shared socket");
            InetSocketAddress address = first.boundAddress();

            Set<String> answered = new HashSet<>();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                answered.add(hello(address));
                return answered.size() == 2;
            });
            assertEquals(Set.of("hello from a", "hello from b"), answered);

            // a stops accepting (a standby, or a copy draining): b takes every connection
            a.stopAccepting();
            for (int i = 0; i < 20; i++) {
                assertEquals("hello from b", hello(address));
            }
            // closing a's views leaves the shared socket and b alone
            a.unload(Duration.ofSeconds(30));
            for (int i = 0; i < 10; i++) {
                assertEquals("hello from b", hello(address));
            }
            b.unload(Duration.ofSeconds(30));
        }
    }

    @Test
    void aStandbyTakesNoConnectionUntilItStartsAccepting() throws Exception {
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate standby = isolate("s", "SocketApp", host, false);
            standby.start(List.of("channel", "0"));
            host.ready.get(10, TimeUnit.SECONDS);
            InetSocketAddress address = host.boundAddress();
            try (Socket socket = new Socket()) {
                socket.connect(address, 2_000);
                socket.setSoTimeout(300);
                // queued in the backlog, not accepted
                assertThrows(java.net.SocketTimeoutException.class, () -> socket.getInputStream().read());
                standby.startAccepting();
                socket.setSoTimeout(5_000);
                String line = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
                assertEquals("hello from s", line);
            }
            standby.unload(Duration.ofSeconds(30));
        }
    }

    private static String hello(InetSocketAddress address) throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(address, 2_000);
            socket.setSoTimeout(5_000);
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    @Test
    void classesThatCallNothingRedirectedAreNotRewritten() throws Exception {
        byte[] plain;
        try (var in = IsolateTest.class.getResourceAsStream("/testapps/ThrowingApp.class")) {
            plain = in.readAllBytes();
        }
        assertTrue(plain == new CallSiteRewriter().rewrite(plain, d -> null));
        byte[] exits;
        try (var in = IsolateTest.class.getResourceAsStream("/testapps/ExitApp.class")) {
            exits = in.readAllBytes();
        }
        byte[] rewritten = new CallSiteRewriter().rewrite(exits, d -> ClassLoader.getSystemResourceAsStream(
                d.descriptorString().substring(1, d.descriptorString().length() - 1) + ".class"));
        assertTrue(invokes(exits).contains("java/lang/System.exit"), "the app calls System.exit: " + invokes(exits));
        List<String> calls = invokes(rewritten);
        assertFalse(calls.contains("java/lang/System.exit"), "no call of System.exit is left: " + calls);
        assertTrue(calls.stream().anyMatch(call -> call.startsWith("dev/forkless/isolate/IsolateHooks.")),
                "the call goes to the isolate's hooks: " + calls);
    }

    /** @return every method a class invokes, as {@code owner.name}, from its parsed class model */
    private static List<String> invokes(byte[] classFile) {
        return java.lang.classfile.ClassFile.of().parse(classFile).methods().stream()
                .flatMap(method -> method.code().stream())
                .flatMap(code -> code.elementStream())
                .flatMap(element -> element instanceof java.lang.classfile.instruction.InvokeInstruction invoke
                        ? java.util.stream.Stream.of(invoke.owner().asInternalName() + "." + invoke.name().stringValue())
                        : java.util.stream.Stream.empty())
                .toList();
    }
}
