package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Process mode end to end: child JVMs of the real runtime.jar sharing one socket, and {@code --compare}. */
class ProcessModeIT {

    private static final Pattern WHOAMI = Pattern.compile("\\{\"isolate\":\"(\\d+)\",\"pid\":(\\d+),\"mode\":\"(\\w+)\"}");

    /** id -> pid of the copies seen answering /whoami, until {@code count} distinct ones answered. */
    private static Map<String, Long> copiesServing(InetSocketAddress address, int count) {
        Map<String, Long> seen = new HashMap<>();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5)).until(() -> {
            Http.Response response = Http.get(address, "/whoami");
            assertEquals(200, response.status(), response.body());
            Matcher m = WHOAMI.matcher(response.body());
            assertTrue(m.matches(), response.body());
            assertEquals("process", m.group(3));
            seen.put(m.group(1), Long.parseLong(m.group(2)));
            return seen.size() >= count;
        });
        return seen;
    }

    @Test
    void twoChildrenServeOneSocketAndAreReplacedWhenKilledOrExiting() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--mode", "process", "--isolates", "2", "--standby", "0")) {
            InetSocketAddress address = runtime.awaitReady();
            Map<String, Long> copies = copiesServing(address, 2);
            assertEquals(2, copies.values().stream().distinct().count(), copies.toString());
            copies.values().forEach(pid -> assertNotEquals(runtime.pid(), pid, "a copy runs in the runtime's JVM"));
            copies.values().forEach(pid -> assertTrue(ProcessHandle.of(pid).map(ProcessHandle::parent)
                    .flatMap(p -> p).map(ProcessHandle::pid).orElse(-1L) == runtime.pid(), "not a child: " + pid));

            // kill -9 of a child: replaced, and serving goes on meanwhile
            var victim = copies.entrySet().iterator().next();
            ProcessHandle.of(victim.getValue()).orElseThrow().destroyForcibly();
            runtime.awaitLine(l -> l.contains("process=" + victim.getKey() + " event=crashed")
                    && l.contains("SIGKILL"), Duration.ofSeconds(60));
            for (int i = 0; i < 20; i++) {
                assertEquals(200, Http.get(address, "/").status());
            }
            runtime.awaitLine(l -> l.matches("forkless process=3 event=ready.*"), Duration.ofSeconds(120)); // a child JVM, on a busy machine
            Map<String, Long> after = copiesServing(address, 2);
            assertFalse(after.containsKey(victim.getKey()), after.toString());
            assertFalse(ProcessHandle.of(victim.getValue()).map(ProcessHandle::isAlive).orElse(false));

            // System.exit in a child: replaced
            Http.Response exit = Http.get(address, "/exit");
            assertEquals(202, exit.status());
            runtime.awaitLine(l -> l.matches("forkless process=\\d+ event=exited status=3"), Duration.ofSeconds(60));
            runtime.awaitLine(l -> l.matches("forkless process=4 event=ready.*"), Duration.ofSeconds(120)); // a child JVM, on a busy machine
            Map<String, Long> last = copiesServing(address, 2);
            assertTrue(last.containsKey("4"), last.toString());
            assertTrue(last.values().stream().noneMatch(pid -> pid == runtime.pid()));
        }
    }

    @Test
    void connectionsQueuedWhileTheOnlyChildIsKilledAreServedByItsReplacement() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--mode", "process", "--isolates", "1", "--standby", "0")) {
            InetSocketAddress address = runtime.awaitReady();
            long pid = copiesServing(address, 1).get("1");
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            ProcessHandle.of(pid).orElseThrow().onExit().get(5, TimeUnit.SECONDS);
            // No copy accepts now; the runtime's socket keeps these in its backlog for the replacement.
            List<Socket> queued = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Socket socket = new Socket();
                socket.connect(address, 2000);
                socket.setSoTimeout(120_000); // while the only child's replacement JVM starts
                socket.getOutputStream().write("GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                queued.add(socket);
            }
            for (Socket socket : queued) {
                try (socket) {
                    String response = readResponse(socket);
                    assertTrue(response.startsWith("HTTP/1.1 200"), response);
                    assertTrue(response.contains("\"isolate\":\"2\""), response);
                }
            }
        }
    }

    /** Reads one response, headers and a Content-Length body, without waiting for the connection to close. */
    private static String readResponse(Socket socket) throws IOException {
        var in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                return head.toString();
            }
            head.append((char) c);
        }
        Matcher length = Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        int n = length.find() ? Integer.parseInt(length.group(1)) : 0;
        return head + new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }

    @Test
    void noChildOutlivesARuntimeKilledWithSigkill() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--mode", "process", "--isolates", "2", "--standby", "1")) {
            runtime.awaitReady();
            List<ProcessHandle> children = runtime.process().descendants().toList();
            assertEquals(3, children.size(), children.toString());
            runtime.process().destroyForcibly();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            for (ProcessHandle child : children) {
                long left = deadline - System.nanoTime();
                try {
                    child.onExit().get(Math.max(1, left), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    child.destroyForcibly();
                    throw new AssertionError("child " + child.pid() + " outlived the runtime by 5 s");
                }
            }
        }
    }

    @Test
    void compareWritesAReportOfNumbers(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        try (RuntimeProcess runtime = RuntimeProcess.start("--compare", "--isolates", "1", "--duration", "1s",
                "--connections", "4", "--report", report.toString(),
                RuntimeProcess.demoJar().toString(), "--port", "0", "--host", "127.0.0.1")) {
            // both modes, each started, loaded, crashed and reloaded: minutes on a busy 2-core machine
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(300)), runtime.output());
            String json = Files.readString(report.resolve("compare.json"));
            Matcher rows = Pattern.compile("\\{\"metric\": \"([^\"]+)\", \"unit\": \"[^\"]+\", \"isolate\": ([^,]+), "
                    + "\"process\": ([^}]+)}").matcher(json);
            int count = 0;
            while (rows.find()) {
                count++;
                for (String value : List.of(rows.group(2), rows.group(3))) {
                    assertTrue(value.trim().matches("-?\\d+(\\.\\d+)?"), rows.group(1) + ": " + value + "\n" + json);
                }
            }
            assertTrue(count >= 10, json);
            String markdown = Files.readString(report.resolve("compare.md"));
            assertTrue(markdown.contains("| throughput | req/s |"), markdown);
            assertTrue(runtime.output().contains("crash -> replacement serving, cold"), runtime.output());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * An app that needs a JVM of its own (the system class loader must have loaded it; it sets the JVM's
     * one URL stream handler factory) serves from 2 copies, each a {@code java -jar}-like child whose
     * {@code java.class.path} is the app's jar alone, nothing of the runtime.
     */
    @Test
    void anAppNeedingItsOwnJvmServesFromTwoJavaJarLikeChildren(@TempDir Path dir) throws Exception {
        Path jar = dev.forkless.runtime.testing.TestJars.testApp(dir.resolve("own-jvm.jar"), testapps.SystemLoaderApp.class);
        try (RuntimeProcess runtime = RuntimeProcess.start("--mode", "process", "--isolates", "2", "--standby", "0",
                jar.toString(), "--port", "0", "--host", "127.0.0.1")) {
            InetSocketAddress address = runtime.awaitReady();
            Pattern line = Pattern.compile("id=(\\d+) mode=process system=true url=handled /x cp=(.*)\n");
            Map<String, String> classPaths = new HashMap<>();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(() -> {
                Http.Response response = Http.get(address, "/");
                assertEquals(200, response.status(), response.body());
                Matcher m = line.matcher(response.body());
                assertTrue(m.matches(), response.body());
                classPaths.put(m.group(1), m.group(2));
                return classPaths.size() >= 2;
            });
            for (String classPath : classPaths.values()) {
                // exactly what java -jar gives: the agent jar is on the system loader's path, not in the property
                assertEquals(jar.toRealPath(), Path.of(classPath).toRealPath(), classPath);
            }
            assertFalse(runtime.output().contains("event=crashed"), runtime.output());
        }
    }

    /**
     * A line on the control channel that is no message a child sends is one crash of that copy, told
     * once, with the reason; the runtime reads on, replaces the copy, and stops cleanly.
     */
    @Test
    void aMalformedControlLineIsACrashOfThatCopyNotOfTheRuntime(@TempDir Path dir) throws Exception {
        Path jar = dev.forkless.runtime.testing.TestJars.testApp(dir.resolve("malformed.jar"), testapps.MalformedControlApp.class);
        try (RuntimeProcess runtime = RuntimeProcess.start("--mode", "process", "--isolates", "1", "--standby", "0",
                "--admin", "off", "--min-uptime", "0", jar.toString(), dir.resolve("once").toString())) {
            String crashed = runtime.awaitLine(l -> l.contains("event=crashed"), Duration.ofSeconds(60));
            assertTrue(crashed.contains("malformed control message") && crashed.contains("not a number"), crashed);
            // the replacement (the file exists now: it sends nothing odd) is ready, and nothing else crashed
            await().atMost(Duration.ofSeconds(60)).until(() -> runtime.count(l -> l.contains("event=ready")) >= 2);
            assertEquals(1, runtime.count(l -> l.contains("event=crashed")), runtime.output());
            runtime.terminate();
            assertEquals(0, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
        }
    }
}
