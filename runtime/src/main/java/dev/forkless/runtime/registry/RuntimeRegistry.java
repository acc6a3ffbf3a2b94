package dev.forkless.runtime.registry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The running runtimes of a machine (of a {@link ForklessHome}): one small JSON file per runtime,
 * {@code runtimes/PID.json}, written atomically once it serves and removed when it exits. A runtime that
 * could not remove its file (killed with SIGKILL, its machine lost power) leaves a stale one: a reader
 * tells it by its process, which is gone or is another process that got its pid (its start time differs),
 * ignores it and removes it. No daemon: whoever reads the folder sees what runs now.
 */
public final class RuntimeRegistry {

    private static final System.Logger LOG = System.getLogger(RuntimeRegistry.class.getName());

    /**
     * How far the start time a process reports may be from the one its file recorded and still be the same
     * process: Linux derives it from the boot time, which moves by a fraction of a second when the clock is
     * adjusted. A pid reused within that much of the first process's start would need the pids to wrap
     * around in between.
     */
    static final Duration SAME_START = Duration.ofSeconds(2);

    private final Path folder;

    /** @param folder the registry's folder (it is created when the first runtime registers) */
    public RuntimeRegistry(Path folder) {
        this.folder = folder.toAbsolutePath();
    }

    /** @return the registry of a Forkless folder, {@code HOME/runtimes} */
    public static RuntimeRegistry of(ForklessHome home) {
        return new RuntimeRegistry(home.runtimes());
    }

    /** @return the folder of its files */
    public Path folder() {
        return folder;
    }

    /** @return the file of a runtime's entry */
    Path fileOf(long pid) {
        return folder.resolve(pid + ".json");
    }

    /**
     * Writes a runtime's entry (this process's, normally), replacing one of the same pid, and removes it when
     * this JVM exits unless {@link Registration#close() closed} before.
     *
     * @param entry the entry
     * @return the registration, to update the entry and remove it
     * @throws IOException when the folder or the file cannot be written
     */
    public Registration register(RegistryEntry entry) throws IOException {
        Registration registration = new Registration(this, entry.pid());
        write(entry);
        registration.removeAtExit();
        return registration;
    }

    /** Writes the entry to a temporary file and moves it in place: a reader never sees half a file. */
    void write(RegistryEntry entry) throws IOException {
        if (!Files.isDirectory(folder)) {
            try {
                Files.createDirectories(folder, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (UnsupportedOperationException e) {
                Files.createDirectories(folder);
            }
        }
        Path temporary = Files.createTempFile(folder, "." + entry.pid() + "-", ".tmp"); // rw------- on POSIX
        try {
            Files.writeString(temporary, entry.toJson(), StandardCharsets.UTF_8);
            try {
                Files.move(temporary, fileOf(entry.pid()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, fileOf(entry.pid()), StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Removes a runtime's file, if it is there. */
    void remove(long pid) {
        try {
            Files.deleteIfExists(fileOf(pid));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove " + fileOf(pid) + ": " + e);
        }
    }

    /**
     * The runtimes that run now, the longest running first. Files of runtimes that are gone are removed;
     * files that are no entry (another format, a damaged file) are skipped and left alone.
     *
     * @return the live entries
     */
    public List<RegistryEntry> live() {
        return scan().live();
    }

    /**
     * What one read of the folder found.
     *
     * @param live    the entries of runtimes that run now, the longest running first
     * @param removed the stale entries this read removed, each said in a few words ({@code pid 12 is not running})
     */
    public record Scan(List<RegistryEntry> live, List<String> removed) {
        public Scan {
            live = List.copyOf(live);
            removed = List.copyOf(removed);
        }
    }

    /**
     * Reads the folder as {@link #live()} does, and says which stale entries it removed: a client that finds
     * no runtime can tell why.
     *
     * @return the live entries and the removed ones
     */
    public Scan scan() {
        List<RegistryEntry> entries = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        for (Path file : files()) {
            Optional<RegistryEntry> entry = read(file);
            if (entry.isEmpty()) {
                continue;
            }
            Optional<String> stale = whyStale(entry.get());
            if (stale.isEmpty()) {
                entries.add(entry.get());
            } else {
                LOG.log(System.Logger.Level.DEBUG, "removing the stale registry file " + file + ": " + stale.get());
                remove(entry.get().pid());
                removed.add(stale.get());
            }
        }
        entries.sort(Comparator.comparing((RegistryEntry e) -> e.started().orElse(Instant.MAX))
                .thenComparingLong(RegistryEntry::pid));
        return new Scan(entries, removed);
    }

    /** @return the live entries of runtimes that run the app of that name */
    public List<RegistryEntry> running(String app) {
        return live().stream().filter(e -> e.runs(app)).toList();
    }

    /** The {@code PID.json} files of the folder; none when it does not exist. */
    private List<Path> files() {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(folder, "[0-9]*.json")) {
            stream.forEach(files::add);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot list " + folder + ": " + e);
        }
        return files;
    }

    /** @return the entry of a file, when it holds one of this format for the pid its name says */
    Optional<RegistryEntry> read(Path file) {
        String name = file.getFileName().toString();
        try {
            if (Files.size(file) > 64 * 1024) {
                return Optional.empty(); // no entry is this large
            }
            RegistryEntry entry = RegistryEntry.parse(Files.readString(file, StandardCharsets.UTF_8));
            if (!name.equals(entry.pid() + ".json")) {
                LOG.log(System.Logger.Level.DEBUG, file + " holds the entry of pid " + entry.pid() + ": skipped");
                return Optional.empty();
            }
            return Optional.of(entry);
        } catch (NoSuchFileException e) {
            return Optional.empty(); // removed meanwhile: its runtime stopped
        } catch (IOException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.DEBUG, "skipping " + file + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * @param entry an entry
     * @return whether its runtime still runs: its pid is alive and is the same process, started when the
     *         entry says (when either start time is unknown, a live pid is taken for it)
     */
    public static boolean isLive(RegistryEntry entry) {
        return whyStale(entry).isEmpty();
    }

    /**
     * @param entry an entry
     * @return why its runtime no longer runs ({@code pid 12 is not running}), or empty when it runs
     */
    static Optional<String> whyStale(RegistryEntry entry) {
        Optional<ProcessHandle> process = ProcessHandle.of(entry.pid()).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            return Optional.of("pid " + entry.pid() + " is not running");
        }
        java.util.OptionalLong ticks = startTicks(entry.pid());
        if (entry.startTicks().isPresent() && ticks.isPresent()) {
            // the kernel's own count since boot: the same process has the same, whatever the wall clock did
            return entry.startTicks().getAsLong() == ticks.getAsLong() ? Optional.empty()
                    : Optional.of("pid " + entry.pid() + " is another process (started at tick " + ticks.getAsLong()
                    + " since boot, the entry's at " + entry.startTicks().getAsLong() + ")");
        }
        Optional<Instant> started = process.get().info().startInstant();
        if (entry.started().isEmpty() || started.isEmpty()) {
            return Optional.empty();
        }
        // derived from the wall clock at boot as each JVM reads it: a step of the clock moves it
        return Duration.between(started.get(), entry.started().get()).abs().compareTo(SAME_START) <= 0 ? Optional.empty()
                : Optional.of("pid " + entry.pid() + " is another process (started " + started.get()
                + ", the entry's " + entry.started().get() + ")");
    }

    /**
     * @param pid a process id
     * @return when the process started, in clock ticks since boot ({@code starttime} of {@code /proc/PID/stat}),
     *         when this is Linux and the process exists
     */
    public static java.util.OptionalLong startTicks(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", String.valueOf(pid), "stat"));
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ')'
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            return fields.length > 19 ? java.util.OptionalLong.of(Long.parseLong(fields[19])) : java.util.OptionalLong.empty();
        } catch (java.io.IOException | RuntimeException unknown) {
            return java.util.OptionalLong.empty();
        }
    }

    /** @return this process's start time as {@link #isLive} compares it */
    public static Optional<Instant> startOfThisProcess() {
        return ProcessHandle.current().info().startInstant();
    }
}
