package dev.forkless.runtime.state;

import dev.forkless.runtime.child.ControlMessage;

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
 * The shared state on disk: a journal of lines ({@code put KEY VALUE}, {@code del KEY}, URL-encoded
 * words), each appended and forced to disk before the change is applied, so an acknowledged change
 * survives a crash of the runtime or the machine. A last line without its newline was never
 * acknowledged and is ignored. The journal is compacted (written to a temp file, forced, moved over the
 * old one atomically, folder forced) when opened and whenever it grows past twice the live entries.
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
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') {
                continue;
            }
            String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
            start = i + 1;
            if (line.isBlank()) {
                continue;
            }
            try {
                ControlMessage entry = ControlMessage.decode(line);
                switch (entry.type()) {
                    case "put" -> values.put(entry.arg(0), entry.arg(1));
                    case "del" -> values.remove(entry.arg(0));
                    default -> throw new IllegalArgumentException("unknown entry " + entry.type());
                }
            } catch (RuntimeException e) {
                throw new IOException("shared state file " + path + " is damaged near byte " + start + ": " + e.getMessage());
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
        byte[] line = value == null ? ControlMessage.of("del", key).encode() : ControlMessage.of("put", key, value).encode();
        ByteBuffer buffer = ByteBuffer.wrap(line);
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
            for (Map.Entry<String, String> e : values.entrySet()) {
                ByteBuffer buffer = ByteBuffer.wrap(ControlMessage.of("put", e.getKey(), e.getValue()).encode());
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
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
