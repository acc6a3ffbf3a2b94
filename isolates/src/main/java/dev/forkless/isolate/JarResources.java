package dev.forkless.isolate;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * {@code jar:} URLs for the resources of one app jar that read from the isolate's own open
 * {@link JarFile} rather than from the JDK's process-wide jar cache. The cache would keep the jar open
 * after the isolate is unloaded, and would serve a reload stale contents after the jar was rebuilt.
 */
final class JarResources extends URLStreamHandler {

    private final JarFile file;
    private final String base;

    JarResources(JarFile file, Path path) {
        this.file = file;
        this.base = "jar:" + path.toUri() + "!/";
    }

    URL find(String name) {
        JarEntry entry = file.getJarEntry(name);
        if (entry == null) {
            return null;
        }
        try {
            return URL.of(URI.create(base + encode(name)), this);
        } catch (MalformedURLException | IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    protected URLConnection openConnection(URL url) throws IOException {
        return new Connection(url);
    }

    private static String encode(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (char c : name.toCharArray()) {
            if (c == ' ' || c == '%' || c == '#' || c == '?' || c > 127) {
                for (byte b : String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
                    out.append('%').append(String.format("%02X", b & 0xff));
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private final class Connection extends JarURLConnection {

        private JarEntry entry;

        Connection(URL url) throws MalformedURLException {
            super(url);
        }

        @Override
        public void connect() throws IOException {
            if (!connected) {
                String name = getEntryName();
                entry = name == null ? null : file.getJarEntry(name);
                if (name != null && entry == null) {
                    throw new FileNotFoundException(url.toString());
                }
                connected = true;
            }
        }

        @Override
        public JarFile getJarFile() throws IOException {
            connect();
            return file;
        }

        @Override
        public InputStream getInputStream() throws IOException {
            connect();
            if (entry == null) {
                throw new IOException("no entry name in " + url);
            }
            return file.getInputStream(entry);
        }

        @Override
        public long getContentLengthLong() {
            try {
                connect();
                return entry == null ? -1 : entry.getSize();
            } catch (IOException e) {
                return -1;
            }
        }
    }
}
