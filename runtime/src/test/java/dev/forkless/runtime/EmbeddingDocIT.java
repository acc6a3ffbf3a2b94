package dev.forkless.runtime;

import dev.forkless.runtime.testing.RepoFiles;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The example of docs/embedding.md, taken from between its markers, compiled against the runtime and
 * run: two copies of the demo, a reload, a scale to three, close; its listener saw the events in order.
 */
class EmbeddingDocIT {

    private static final String START = "<!-- embedding-example:start -->";
    private static final String END = "<!-- embedding-example:end -->";

    @BeforeAll
    static void letCrashesReachTheRuntime() {
        org.awaitility.Awaitility.doNotCatchUncaughtExceptionsByDefault();
    }

    static String example() throws Exception {
        String doc = Files.readString(RepoFiles.file("docs/embedding.md"));
        int start = doc.indexOf(START);
        int end = doc.indexOf(END);
        assertTrue(start >= 0 && end > start, "docs/embedding.md has the example between its markers");
        String block = doc.substring(start + START.length(), end).strip();
        assertTrue(block.startsWith("```java") && block.endsWith("```"), "the example is one java block");
        return block.substring("```java".length(), block.length() - 3);
    }

    @Test
    void theDocumentedExampleCompilesRunsAndSeesEventsInOrder(@TempDir Path dir) throws Exception {
        Path source = dir.resolve("EmbeddingExample.java");
        Files.writeString(source, example());
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        Boolean ok = javac.getTask(diagnostics, null, null,
                List.of("-classpath", System.getProperty("java.class.path"), "-d", dir.toString(), "-Xlint:all", "-Werror"),
                null, javac.getStandardFileManager(null, null, null).getJavaFileObjects(source)).call();
        assertTrue(ok, "the example compiles: " + diagnostics);

        List<ForklessEvent> events;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            Method run = loader.loadClass("EmbeddingExample").getMethod("run", Path.class);
            @SuppressWarnings("unchecked")
            List<ForklessEvent> seen = (List<ForklessEvent>) run.invoke(null, RuntimeProcess.demoJar());
            events = new ArrayList<>(seen);
        }

        int reloading = indexOf(events, e -> e instanceof ForklessEvent.Reloading);
        int reloaded = indexOf(events, e -> e instanceof ForklessEvent.Reloaded);
        int scaled = indexOf(events, e -> e instanceof ForklessEvent.Scaled s && s.from() == 2 && s.to() == 3);
        int stopping = indexOf(events, e -> e instanceof ForklessEvent.Stopping);
        assertTrue(0 < reloading && reloading < reloaded && reloaded < scaled && scaled < stopping, events.toString());
        ForklessEvent.Reloaded reload = (ForklessEvent.Reloaded) events.get(reloaded);
        assertTrue(reload.ok() && reload.replaced() == 2, reload.toString());

        // every copy: started, ready, draining, drained, unloaded, in that order; 2 + 2 reloaded + 1 scaled
        List<String> ids = events.stream().filter(e -> e instanceof ForklessEvent.Started)
                .map(e -> ((ForklessEvent.Started) e).workerId()).toList();
        assertEquals(5, ids.size(), events.toString());
        // the example asks for isolates: every copy's events carry the runtime's own Mode
        assertTrue(events.stream().filter(e -> e instanceof ForklessEvent.WorkerEvent)
                .allMatch(e -> ((ForklessEvent.WorkerEvent) e).mode() == Mode.ISOLATE), events.toString());
        for (String id : ids) {
            int started = indexOf(events, e -> e instanceof ForklessEvent.Started s && s.workerId().equals(id));
            int ready = indexOf(events, e -> e instanceof ForklessEvent.Ready r && r.workerId().equals(id));
            int draining = indexOf(events, e -> e instanceof ForklessEvent.Draining d && d.workerId().equals(id));
            int drained = indexOf(events, e -> e instanceof ForklessEvent.Drained d && d.workerId().equals(id));
            int unloaded = indexOf(events, e -> e instanceof ForklessEvent.Unloaded u && u.workerId().equals(id));
            assertTrue(started < ready && ready < draining && draining < drained && drained < unloaded,
                    "copy " + id + ": " + events);
        }
    }

    private static int indexOf(List<ForklessEvent> events, Predicate<ForklessEvent> match) {
        for (int i = 0; i < events.size(); i++) {
            if (match.test(events.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
