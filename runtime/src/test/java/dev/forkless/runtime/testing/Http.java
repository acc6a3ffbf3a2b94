package dev.forkless.runtime.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client over a plain socket, strict as wrk is: a connection closed before a whole
 * response arrived is an error, never retried.
 */
public final class Http implements AutoCloseable {

    private final InetSocketAddress address;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    public Http(InetSocketAddress address) {
        this.address = address;
    }

    /** One request on a fresh connection. */
    public static Response get(InetSocketAddress address, String path) throws IOException {
        try (Http http = new Http(address)) {
            return http.send(path, true);
        }
    }

    /**
     * Sends a GET on this client's keep-alive connection (opened when needed), reads the whole response;
     * closes the connection when the response says {@code Connection: close}.
     */
    public Response send(String path, boolean close) throws IOException {
        return send("GET", path, null, close);
    }

    /**
     * Sends a GET and does not wait for the answer (for requests that never get one); the caller closes
     * the socket.
     */
    public static Socket fire(InetSocketAddress address, String path) throws IOException {
        Socket socket = new Socket();
        socket.connect(address, 5_000);
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return socket;
    }

    /** One request with any method on a fresh connection. */
    public static Response request(InetSocketAddress address, String method, String path, String body) throws IOException {
        try (Http http = new Http(address)) {
            return http.send(method, path, body, true);
        }
    }

    /** Sends a request with a method and an optional body. */
    public Response send(String method, String path, String body, boolean close) throws IOException {
        if (socket == null) {
            socket = new Socket();
            socket.connect(address, 5_000);
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        out.write((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (close ? "Connection: close\r\n" : "")
                + (body == null ? "" : "Content-Type: text/plain\r\nContent-Length: " + content.length + "\r\n") + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(content);
        out.flush();
        String status = readLine();
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        String line;
        while ((line = readLine()) != null && !line.isEmpty()) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        if (line == null) {
            throw new IOException("connection closed in the headers");
        }
        byte[] payload = "chunked".equalsIgnoreCase(headers.get("transfer-encoding")) ? readChunked()
                : readBody(Integer.parseInt(headers.getOrDefault("content-length", "0")));
        int code = Integer.parseInt(status.split(" ")[1]);
        boolean closing = close || "close".equalsIgnoreCase(headers.get("connection"));
        if (closing) {
            close();
        }
        return new Response(code, headers, new String(payload, StandardCharsets.UTF_8), closing);
    }

    private byte[] readBody(int length) throws IOException {
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
            throw new IOException("connection closed in the body");
        }
        return payload;
    }

    /** A chunked body (servers that stream, e.g. Jetty and Spring answering JSON): its chunks, joined. */
    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String size = readLine();
            if (size == null) {
                throw new IOException("connection closed in a chunked body");
            }
            int semicolon = size.indexOf(';');
            int length = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
            if (length == 0) {
                String trailer;
                while ((trailer = readLine()) != null && !trailer.isEmpty()) {
                    // trailers are not used
                }
                return body.toByteArray();
            }
            body.write(readBody(length));
            readLine();
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                String s = line.toString(StandardCharsets.US_ASCII);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
            socket = null;
        }
    }

    /** A response. */
    public record Response(int status, Map<String, String> headers, String body, boolean closed) {
    }
}
