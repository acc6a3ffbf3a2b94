package dev.forkless.runtime.registry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry's file format, its atomic writes, and how it tells a running runtime from a stale file. */
class RuntimeRegistryTest {

    @TempDir
    Path dir;

    private static RegistryEntry entry(long pid, Optional<Instant> started) {
        return new RegistryEntry(pid, started, List.of("demo"), "isolate", 2, List.of("127.0.0.1:8080"),
                Optional.of("http://127.0.0.1:9616"), Optional.of(Path.of("/home/me/.forkless/admin-9616.token")),
                Optional.empty());
    }

    private static RegistryEntry thisProcess() {
        return entry(ProcessHandle.current().pid(), RuntimeRegistry.startOfThisProcess());
    }

    @Test
    void anEntryIsOneJsonObjectThatReadsBackTheSame() throws Exception {
        RegistryEntry entry = entry(4242, Optional.of(Instant.parse("2026-12-02T16:00:00.120Z")));
        String json = entry.toJson();
        assertEquals(1, json.lines().count(), json);
        var node = new ObjectMapper().readTree(json);
        assertEquals(1, node.get("format").asInt());
        assertEquals(4242, node.get("pid").asLong());
        assertEquals("2026-12-02T16:00:00.120Z", node.get("started").asText());
        assertEquals("demo", node.get("apps").get(0).asText());
        assertEquals("isolate", node.get("mode").asText());
        assertEquals(2, node.get("copies").asInt());
        assertEquals("127.0.0.1:8080", node.get("addresses").get(0).asText());
        assertEquals("http://127.0.0.1:9616", node.get("admin").asText());
        assertEquals("/home/me/.forkless/admin-9616.token", node.get("tokenFile").asText());
        assertTrue(node.get("logs").isNull());
        assertEquals(entry, RegistryEntry.parse(json));
        RegistryEntry noAdmin = new RegistryEntry(7, Optional.empty(), List.of("a", "b"), "process", 1, List.of(),
                Optional.empty(), Optional.empty(), Optional.of(Path.of("/var/log/a")));
        assertEquals(noAdmin, RegistryEntry.parse(noAdmin.toJson()));
        assertEquals(3, entry.withCopies(3).copies());
        assertEquals("process", entry.withMode("process").mode());
        assertFalse(node.has("appDetails"), "a runtime of one app writes no appDetails");
    }

    @Test
    void aRuntimeOfSeveralAppsKeepsEachAppsFigures() {
        RegistryEntry several = new RegistryEntry(9, Optional.empty(), List.of("web", "api"), "isolate,process", 3,
                List.of("127.0.0.1:8080", "127.0.0.1:8081"), Optional.empty(), Optional.empty(), Optional.empty(),
                List.of(new RegistryEntry.AppDetail("web", "isolate", 2, List.of("127.0.0.1:8080")),
                        new RegistryEntry.AppDetail("api", "process", 1, List.of("127.0.0.1:8081"))));
        assertEquals(several, RegistryEntry.parse(several.toJson()));
        RegistryEntry scaled = several.withAppCopies("web", 4);
        assertEquals(5, scaled.copies());
        assertEquals(4, scaled.detail("web").orElseThrow().copies());
        assertEquals(1, scaled.detail("api").orElseThrow().copies());
        assertEquals("process", scaled.detail("api").orElseThrow().mode());
        assertEquals(Optional.empty(), scaled.detail("nosuch"));
    }

    @Test
    void whatIsNoEntryIsRefusedNamingWhy() {
        assertThrows(IllegalArgumentException.class, () -> RegistryEntry.parse("{"));
        assertThrows(IllegalArgumentException.class, () -> RegistryEntry.parse("[]"));
        String good = entry(5, Optional.empty()).toJson();
        IllegalArgumentException otherFormat = assertThrows(IllegalArgumentException.class,
                () -> RegistryEntry.parse(good.replace("\"format\":1", "\"format\":2")));
        assertTrue(otherFormat.getMessage().contains("format 2"), otherFormat.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RegistryEntry.parse(good.replace("\"pid\":5", "\"pid\":\"x\"")));
        assertThrows(IllegalArgumentException.class, () -> RegistryEntry.parse(good.replace("\"pid\":5", "\"pid\":0")));
        assertThrows(IllegalArgumentException.class, () -> RegistryEntry.parse(good.replace("\"apps\":[\"demo\"]", "\"apps\":3")));
        assertThrows(IllegalArgumentException.class, () -> RegistryEntry.parse(
                entry(5, Optional.of(Instant.EPOCH)).toJson().replace("1970-01-01T00:00:00Z", "yesterday")));
    }

    @Test
    void thisProcessIsLiveAndAnotherProcessWithItsPidIsNot() {
        assertTrue(RuntimeRegistry.isLive(thisProcess()));
        Instant started = RuntimeRegistry.startOfThisProcess().orElseThrow();
        // the same pid, started an hour before: another process that had this pid once
        assertFalse(RuntimeRegistry.isLive(entry(ProcessHandle.current().pid(), Optional.of(started.minus(Duration.ofHours(1))))));
        assertTrue(RuntimeRegistry.isLive(entry(ProcessHandle.current().pid(), Optional.of(started.plusMillis(500)))),
                "the start time may be off by a fraction of a second");
        assertTrue(RuntimeRegistry.isLive(entry(ProcessHandle.current().pid(), Optional.empty())),
                "a live pid without a start time to compare is taken for the runtime");
    }

    /**
     * The start in clock ticks since boot decides where both sides have it: a step of the wall clock (which
     * moves the start instant each JVM derives) leaves a live runtime live, and a pid taken by another
     * process is told apart even when the instants agree.
     */
    @Test
    void theStartInTicksSurvivesAClockStepAndTellsAReusedPid() {
        long pid = ProcessHandle.current().pid();
        java.util.OptionalLong ticks = RuntimeRegistry.startTicks(pid);
        org.junit.jupiter.api.Assumptions.assumeTrue(ticks.isPresent(), "no /proc/PID/stat here");
        Instant started = ProcessHandle.current().info().startInstant().orElseThrow();
        RegistryEntry stepped = entry(pid, Optional.of(started.minus(Duration.ofMinutes(3)))).withStartTicks(ticks);
        assertTrue(RuntimeRegistry.isLive(stepped), "the same process, its start instant read after a clock step");
        RegistryEntry other = entry(pid, Optional.of(started)).withStartTicks(java.util.OptionalLong.of(ticks.getAsLong() + 1));
        assertFalse(RuntimeRegistry.isLive(other), "another process that got the pid");
        RegistryEntry read = RegistryEntry.parse(stepped.toJson());
        assertEquals(ticks, read.startTicks(), "the file keeps it");
        assertEquals(java.util.OptionalLong.empty(), RegistryEntry.parse(entry(pid, Optional.of(started)).toJson()).startTicks());
    }

    @Test
    void aProcessThatIsGoneIsNotLive() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        RegistryEntry entry = entry(sleeper.pid(), sleeper.info().startInstant());
        assertTrue(RuntimeRegistry.isLive(entry));
        sleeper.destroyForcibly();
        assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS));
        assertFalse(RuntimeRegistry.isLive(entry));
    }

    @Test
    void aRegistrationWritesItsFileAtomicallyOwnerOnlyAndRemovesItAtClose() throws Exception {
        RuntimeRegistry registry = new RuntimeRegistry(dir.resolve("runtimes"));
        assertEquals(List.of(), registry.live(), "no folder yet: no runtime");
        RegistryEntry entry = thisProcess();
        try (Registration registration = registry.register(entry)) {
            Path file = dir.resolve("runtimes").resolve(ProcessHandle.current().pid() + ".json");
            assertEquals(file, registration.file());
            assertEquals(entry.toJson(), Files.readString(file));
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
            assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(file.getParent()));
            try (var files = Files.list(file.getParent())) {
                assertEquals(List.of(file), files.toList(), "no temporary file is left");
            }
            assertEquals(List.of(entry), registry.live());
            registration.update(entry.withCopies(5));
            assertEquals(5, registry.live().getFirst().copies());
            assertEquals(List.of(entry.withCopies(5)), registry.running("demo"));
            assertEquals(List.of(), registry.running("other"));
            registration.close();
            assertFalse(Files.exists(file));
            registration.update(entry.withCopies(6));
            assertFalse(Files.exists(file), "a closed registration writes nothing");
        }
    }

    @Test
    void staleFilesAreLeftOutAndRemovedDamagedOnesLeftOutAndKept() throws Exception {
        RuntimeRegistry registry = new RuntimeRegistry(dir);
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        RegistryEntry gone = entry(sleeper.pid(), sleeper.info().startInstant());
        registry.write(gone);
        sleeper.destroyForcibly();
        assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS));
        RegistryEntry reused = entry(ProcessHandle.current().pid(),
                Optional.of(RuntimeRegistry.startOfThisProcess().orElseThrow().minus(Duration.ofDays(1))));
        registry.write(reused);
        Path damaged = Files.writeString(dir.resolve("99.json"), "{\"format\":1,\"pid\":");
        Path future = Files.writeString(dir.resolve("98.json"), entry(98, Optional.empty()).toJson()
                .replace("\"format\":1", "\"format\":9"));
        Path misnamed = Files.writeString(dir.resolve("97.json"), thisProcess().toJson());

        RuntimeRegistry.Scan scan = registry.scan();
        assertEquals(List.of(), scan.live());
        assertEquals(2, scan.removed().size(), "a client that finds no runtime can say why: " + scan.removed());
        assertTrue(scan.removed().contains("pid " + sleeper.pid() + " is not running"), scan.removed().toString());
        assertTrue(scan.removed().stream().anyMatch(r -> r.startsWith("pid " + ProcessHandle.current().pid() + " is another process")),
                scan.removed().toString());
        assertFalse(Files.exists(registry.fileOf(sleeper.pid())), "the file of a process that is gone is removed");
        assertFalse(Files.exists(registry.fileOf(ProcessHandle.current().pid())), "so is one of a reused pid");
        assertTrue(Files.exists(damaged) && Files.exists(future) && Files.exists(misnamed),
                "what cannot be read is left alone");
    }

    @Test
    void theFolderIsTheSystemPropertysThenTheVariablesThenTheUsersOwn() {
        Properties properties = new Properties();
        properties.setProperty("user.home", "/home/me");
        assertEquals(Path.of("/home/me/.forkless"), ForklessHome.of(properties, Map.of()).folder());
        assertEquals(Path.of("/srv/fl"), ForklessHome.of(properties, Map.of("FORKLESS_HOME", "/srv/fl")).folder());
        properties.setProperty("forkless.home", "/tmp/t");
        assertEquals(Path.of("/tmp/t"), ForklessHome.of(properties, Map.of("FORKLESS_HOME", "/srv/fl")).folder());
        ForklessHome home = new ForklessHome(Path.of("/h"));
        assertEquals(Path.of("/h/admin-9615.token"), home.tokenFile(9615));
        assertEquals(Path.of("/h/runtimes"), home.runtimes());
        assertEquals(Path.of("/h/cache"), home.cache());
    }
}
