package testapps;

import dev.forkless.api.Worker;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * An app that needs a JVM of its own: it insists that the system class loader loaded it, and registers
 * the JVM's one URL stream handler factory (a second copy in the same JVM would fail). Serves one line
 * per request: its copy id, what it checked, and its {@code java.class.path}. Arguments:
 * {@code --port P --host H}.
 */
public final class SystemLoaderApp {

    private SystemLoaderApp() {
    }

    public static void main(String[] args) throws IOException {
        if (SystemLoaderApp.class.getClassLoader() != ClassLoader.getSystemClassLoader()) {
            throw new IllegalStateException("not loaded by the system class loader: " + SystemLoaderApp.class.getClassLoader());
        }
        URL.setURLStreamHandlerFactory(protocol -> !protocol.equals("forkless-test") ? null : new URLStreamHandler() {
            @Override
            protected URLConnection openConnection(URL u) {
                return new URLConnection(u) {
                    @Override
                    public void connect() {
                    }

                    @Override
                    public InputStream getInputStream() {
                        return new ByteArrayInputStream(("handled " + u.getPath()).getBytes(StandardCharsets.UTF_8));
                    }
                };
            }
        });
        String handled;
        try (InputStream in = URI.create("forkless-test:/x").toURL().openStream()) {
            handled = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int port = 0;
        String host = "127.0.0.1";
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--port")) {
                port = Integer.parseInt(args[i + 1]);
            } else if (args[i].equals("--host")) {
                host = args[i + 1];
            }
        }
        String body = "id=" + Worker.id() + " mode=" + Worker.mode() + " system=true url=" + handled
                + " cp=" + System.getProperty("java.class.path") + "\n";
        byte[] response = ("HTTP/1.1 200 OK\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
                + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(host, port));
            while (true) {
                try (SocketChannel connection = server.accept()) {
                    ByteBuffer request = ByteBuffer.allocate(4096);
                    while (connection.read(request) > 0 && !new String(request.array(), 0, request.position(),
                            StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                        // read the request's head
                    }
                    connection.write(ByteBuffer.wrap(response));
                }
            }
        }
    }
}
