package dev.forkless.runtime.log;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A log file that rotates by size: when a write would take it past its size, {@code f} becomes
 * {@code f.1}, {@code f.1} becomes {@code f.2} and so on; at most {@code keep} files exist, the live one
 * included. Used by the log writer's one thread only. A failed write closes the file; the next one
 * opens it again, so a disk that was full works again once there is room.
 */
final class RotatingFile implements LogWriter.Target {

    private final Path path;
    private final long maxSize;
    private final int keep;
    private OutputStream out;
    private long size;

    RotatingFile(Path path, long maxSize, int keep) {
        this.path = path;
        this.maxSize = maxSize;
        this.keep = keep;
    }

    @Override
    public void write(byte[] line) throws IOException {
        try {
            if (out == null) {
                open();
            }
            if (size > 0 && size + line.length > maxSize) {
                rotate();
            }
            out.write(line);
            size += line.length;
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private void open() throws IOException {
        out = new BufferedOutputStream(Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                64 * 1024);
        size = Files.size(path);
    }

    private void rotate() throws IOException {
        out.close();
        out = null;
        Files.deleteIfExists(older(keep - 1));
        for (int i = keep - 2; i >= 1; i--) {
            if (Files.exists(older(i))) {
                Files.move(older(i), older(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (keep > 1) {
            Files.move(path, older(1), StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.deleteIfExists(path);
        }
        open();
    }

    private Path older(int n) {
        return path.resolveSibling(path.getFileName() + "." + n);
    }

    @Override
    public void flush() throws IOException {
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                close();
                throw e;
            }
        }
    }

    @Override
    public void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // what could not be written is lost; the writer counted it
            }
            out = null;
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
