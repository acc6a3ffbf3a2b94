package dev.forkless.isolate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A zip file system a copy opens by URI is its own: another copy closing "the same" one does not close it. */
class ZipFileSystemsTest {

    @TempDir
    Path dir;

    @Test
    void eachCopyHasItsOwnZipFileSystem() throws Exception {
        Path app = AgentAppJar.write(dir.resolve("agentapp.jar"));
        Path go = dir.resolve("go");
        try (TestApps.RecordingHost host = new TestApps.RecordingHost()) {
            Isolate a = Isolate.builder().id("a").app(AppJar.open(app)).host(host).build();
            Isolate b = Isolate.builder().id("b").app(AppJar.open(app)).host(new TestApps.RecordingHost(host.sockets())).build();
            Path reportA = dir.resolve("a.txt");
            Path reportB = dir.resolve("b.txt");
            try {
                a.start(List.of(reportA.toString(), "zipfs", go.toString()));
                await().atMost(Duration.ofSeconds(30)).until(() -> read(reportA).contains("opened"));
                // the same jar, by the same URI: the JDK alone would throw FileSystemAlreadyExistsException
                b.start(List.of(reportB.toString(), "zipfs", "close"));
                await().atMost(Duration.ofSeconds(30)).until(() -> read(reportB).contains("returned"));
                assertEquals("opened same=true\nclosed\nreturned\n", read(reportB));
                Files.createFile(go);
                await().atMost(Duration.ofSeconds(30)).until(() -> read(reportA).contains("returned"));
                assertEquals("opened same=true\nread true same=true\nreturned\n", read(reportA),
                        "the other copy's close left this copy's file system open");
            } finally {
                a.unload(Duration.ofSeconds(30));
                b.unload(Duration.ofSeconds(30));
            }
        }
    }

    private static String read(Path report) throws java.io.IOException {
        return Files.exists(report) ? Files.readString(report) : "";
    }
}
