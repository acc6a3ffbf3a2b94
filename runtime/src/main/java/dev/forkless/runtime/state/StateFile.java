package dev.forkless.runtime.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shared state on disk: a journal of records ({@link JournalFormat}: a versioned header line, then
 * {@code put KEY VALUE} and {@code del KEY}), each appended and forced to disk before the change is
 * applied, so an acknowledged change survives a crash of the runtime or the machine. A last line without
 * its newline (a crash in the middle of a write) was never acknowledged: it is ignored, with a warning.
 * The journal is compacted (written to a temp file, forced, moved over the old one atomically, folder
 * forced) when opened, which also moves a journal of the older format to the current one, and whenever
 * it grows past twice the live entries.
 */
final class StateFile implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("forkless.state");
    private static final int COMPACT_SLACK = 1_000;

    private final Path path;
    private final Map<String, String> loaded;
    private FileChannel channel;
    private long lines;

    private StateFile(Path path, Map<String, String> loaded) {
        this.path = path;
        this.loaded = loaded;
    }

    static StateFile open(Path path) throws IOException {
        Path absolute = path.toAbsolutePath();
        Map<String, String> values = Files.exists(absolute) ? read(absolute) : new LinkedHashMap<>();
        StateFile file = new StateFile(absolute, values);
        file.compact(values);
        return file;
    }

    private static Map<String, String> read(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        Map<String, String> values = new LinkedHashMap<>();
        int start = 0;
        boolean first = true;
        boolean legacy = true;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') {
                continue;
            }
            String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
            int at = start;
            start = i + 1;
            try {
                if (first) {
                    first = false;
                    if (JournalFormat.isHeader(line)) {
                        legacy = false;
                        continue;
                    }
                }
                if (line.isBlank()) {
                    continue;
                }
                JournalFormat.apply(line, legacy, values);
            } catch (RuntimeException e) {
                throw new IOException("shared state file " + path + " is damaged at byte " + at + ": " + e.getMessage());
            }
        }
        if (start < bytes.length) {
            LOG.log(System.Logger.Level.WARNING, "shared state file " + path + ": ignoring an unfinished last line"
                    + " (a change that was never acknowledged)");
        }
        return values;
    }

    /** @return the values read at open */
    Map<String, String> values() {
        return loaded;
    }

    /**
     * Writes one change ahead: appended and forced before it returns.
     *
     * @param current the values before the change, to compact from when the journal grew too long
     */
    void append(String key, String value, Map<String, String> current) throws IOException {
        if (lines > 2L * current.size() + COMPACT_SLACK) {
            Map<String, String> next = new LinkedHashMap<>(current);
            if (value == null) {
                next.remove(key);
            } else {
                next.put(key, value);
            }
            compact(next);
            return;
        }
        ByteBuffer buffer = ByteBuffer.wrap(JournalFormat.record(key, value));
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        channel.force(false);
        lines++;
    }

    /** Replaces the journal by one line per value: temp file, force, atomic move, force the folder. */
    private void compact(Map<String, String> values) throws IOException {
        Path dir = path.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(path.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            write(out, JournalFormat.header());
            for (Map.Entry<String, String> e : values.entrySet()) {
                write(out, JournalFormat.record(e.getKey(), e.getValue()));
            }
            out.force(true);
        }
        if (channel != null) {
            channel.close();
        }
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
            folder.force(true);
        } catch (IOException unsupported) {
            // some file systems cannot force a folder; the move is still atomic
        }
        channel = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        lines = values.size();
    }

    private static void write(FileChannel out, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    @Override
    public void close() {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // nothing was pending: every change was forced when it was made
        }
    }
}
