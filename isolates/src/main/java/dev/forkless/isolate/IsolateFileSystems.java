package dev.forkless.isolate;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The zip file systems one copy opened by URI ({@code FileSystems.newFileSystem(jar:...)}), as a JVM
 * keeps them for one app. The JDK's zip provider keeps one file system per archive for the whole JVM, so
 * two copies opening the same jar would share one, and one copy closing it would close it under the
 * other ({@code ClosedFileSystemException}, seen with Micronaut). Here each copy opens its own (the
 * provider's by-path variant, which it does not register), finds its own by URI
 * ({@code FileSystems.getFileSystem}, {@code Path.of(URI)}), and those still open are closed when the
 * copy is unloaded.
 */
final class IsolateFileSystems {

    private final Map<Path, FileSystem> open = new HashMap<>();

    /** @return whether a URI names an entry of a zip archive ({@code jar:file:/app.jar!/entry}) */
    static boolean isZip(URI uri) {
        return "jar".equalsIgnoreCase(uri.getScheme());
    }

    /** {@code FileSystems.newFileSystem(uri, env, loader)} for the copy. */
    synchronized FileSystem newFileSystem(URI uri, Map<String, ?> env, ClassLoader loader) throws IOException {
        Path archive = archive(uri);
        FileSystem existing = find(archive);
        if (existing != null) {
            throw new FileSystemAlreadyExistsException(uri.toString());
        }
        FileSystem created = FileSystems.newFileSystem(archive, env, loader);
        open.put(key(archive), created);
        return created;
    }

    /** {@code FileSystems.getFileSystem(uri)} for the copy. */
    synchronized FileSystem getFileSystem(URI uri) {
        FileSystem fs = find(archive(uri));
        if (fs == null) {
            throw new FileSystemNotFoundException(uri.toString());
        }
        return fs;
    }

    /** {@code Path.of(uri)} for the copy: an entry of one of its zip file systems, or {@code null} when none is open. */
    synchronized Path path(URI uri) {
        FileSystem fs = find(archive(uri));
        if (fs == null) {
            return null;
        }
        String spec = uri.getSchemeSpecificPart();
        int sep = spec.indexOf("!/");
        if (sep < 0) {
            throw new IllegalArgumentException("URI: " + uri + " does not contain path info ex. jar:file:/c:/foo.zip!/BAR");
        }
        return fs.getPath(spec.substring(sep + 1));
    }

    /** Closes the file systems the copy left open; at unload. */
    void closeAll() {
        List<FileSystem> left;
        synchronized (this) {
            left = new ArrayList<>(open.values());
            open.clear();
        }
        for (FileSystem fs : left) {
            try {
                fs.close();
            } catch (IOException | RuntimeException ignored) {
                // best effort: the copy is gone
            }
        }
    }

    private FileSystem find(Path archive) {
        Path key = key(archive);
        FileSystem fs = open.get(key);
        if (fs != null && !fs.isOpen()) {
            open.remove(key);
            return null;
        }
        return fs;
    }

    /** The archive of a {@code jar:} URI, as the JDK's zip provider reads it. */
    private static Path archive(URI uri) {
        String spec = uri.getRawSchemeSpecificPart();
        int sep = spec.indexOf("!/");
        if (sep != -1) {
            spec = spec.substring(0, sep);
        }
        try {
            return Path.of(new URI(spec)).toAbsolutePath();
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static Path key(Path archive) {
        try {
            return archive.toRealPath();
        } catch (IOException notYet) {
            return archive.normalize();
        }
    }
}
