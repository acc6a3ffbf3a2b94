package dev.forkless.runtime.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@code --pid-file}: the file that holds the pid of the runtime serving now, for a service manager or a
 * script. Written (whole, by a rename) when the runtime starts, and again by a runtime that takes over
 * ({@code forkless upgrade}); removed when the runtime that owns it exits, only while it still holds that
 * runtime's pid (a runtime that handed over leaves the new one's pid in place).
 *
 * @param path the file
 */
record PidFile(Path path) {

    PidFile {
        path = path.toAbsolutePath().normalize();
    }

    /**
     * Writes this process's pid.
     *
     * @throws IOException naming why it cannot be written
     */
    void write() throws IOException {
        write(ProcessHandle.current().pid());
    }

    void write(long pid) throws IOException {
        Path dir = path.getParent();
        if (Files.isDirectory(path)) {
            throw new IOException(path + " is a directory");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException("no folder " + dir);
        }
        Path tmp = Files.createTempFile(dir, "." + path.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, pid + "\n", StandardCharsets.US_ASCII);
            try { // readable by all, as pid files are (a temporary file is its owner's only)
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // its file system's own rules apply
            }
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** @return the pid the file holds; -1 when it holds none (missing, unreadable, not a number) */
    long read() {
        try {
            String text = Files.readString(path, StandardCharsets.US_ASCII).trim();
            return text.matches("\\d{1,18}") ? Long.parseLong(text) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Removes the file if it holds this process's pid; best effort. */
    void removeIfOwn() {
        if (read() == ProcessHandle.current().pid()) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // best effort: a stale file names a pid that is gone
            }
        }
    }
}
