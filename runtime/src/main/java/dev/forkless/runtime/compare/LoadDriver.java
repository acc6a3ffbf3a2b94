package dev.forkless.runtime.compare;

import org.HdrHistogram.Histogram;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * A closed-loop HTTP/1.1 load on 127.0.0.1: N connections, each a virtual thread that sends its next
 * request as soon as the last response is read, over keep-alive (reconnecting when the server says
 * {@code Connection: close}). A failed request is a connection that could not be opened, broke, timed
 * out, or a status that is not 2xx. Latencies go into an HdrHistogram per connection, merged at the end.
 */
final class LoadDriver {

    /** What the driver names itself in reports. */
    static final String NAME = "built-in (virtual threads, raw HTTP/1.1 keep-alive, HdrHistogram)";

    private static final int READ_TIMEOUT_MS = 10_000;
    private static final long HIGHEST_MICROS = 60_000_000L;

    /**
     * What a load measured.
     *
     * @param requests  requests answered with 2xx
     * @param failed    requests that failed
     * @param latencyUs the latency of answered requests, in microseconds
     * @param took      how long the load ran
     */
    record Result(long requests, long failed, Histogram latencyUs, Duration took) {
        double throughput() {
            return requests / Math.max(1e-9, took.toNanos() / 1e9);
        }

        double percentileMillis(double percentile) {
            return latencyUs.getTotalCount() == 0 ? 0 : latencyUs.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    private final int port;
    private final byte[] request;
    private final List<Thread> threads = new ArrayList<>();
    private final List<Histogram> histograms = new ArrayList<>();
    private final LongAdder ok = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private volatile boolean stop;
    private long startedAt;

    private LoadDriver(int port, String path) {
        this.port = port;
        this.request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUser-Agent: forkless-compare\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** Starts the load in the background. */
    static LoadDriver start(int port, String path, int connections) {
        LoadDriver driver = new LoadDriver(port, path);
        driver.startedAt = System.nanoTime();
        for (int i = 0; i < connections; i++) {
            Histogram histogram = new Histogram(1, HIGHEST_MICROS, 3);
            driver.histograms.add(histogram);
            driver.threads.add(Thread.ofVirtual().name("load-" + i).start(() -> driver.loop(histogram)));
        }
        return driver;
    }

    /** Runs the load for a while. */
    static Result run(int port, String path, int connections, Duration duration) throws InterruptedException {
        LoadDriver driver = start(port, path, connections);
        Thread.sleep(duration);
        return driver.stop();
    }

    /** Stops the load once each connection's request in progress is answered. */
    Result stop() throws InterruptedException {
        stop = true;
        long took = System.nanoTime() - startedAt;
        for (Thread thread : threads) {
            thread.join(Duration.ofMillis(READ_TIMEOUT_MS + 1000));
        }
        Histogram total = new Histogram(1, HIGHEST_MICROS, 3);
        for (Histogram histogram : histograms) {
            synchronized (histogram) {
                total.add(histogram);
            }
        }
        return new Result(ok.sum(), failed.sum(), total, Duration.ofNanos(took));
    }

    private void loop(Histogram histogram) {
        Socket socket = null;
        InputStream in = null;
        OutputStream out = null;
        while (!stop) {
            try {
                if (socket == null) {
                    socket = new Socket();
                    socket.setTcpNoDelay(true);
                    socket.setSoTimeout(READ_TIMEOUT_MS);
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                    in = new BufferedInputStream(socket.getInputStream(), 8192);
                    out = socket.getOutputStream();
                }
                long start = System.nanoTime();
                out.write(request);
                out.flush();
                Response response = Response.read(in);
                long micros = Math.min(HIGHEST_MICROS, Math.max(1, (System.nanoTime() - start) / 1000));
                if (response.status() / 100 == 2) {
                    ok.increment();
                    synchronized (histogram) {
                        histogram.recordValue(micros);
                    }
                } else {
                    failed.increment();
                }
                if (response.close()) {
                    closeQuietly(socket);
                    socket = null;
                }
            } catch (IOException e) {
                if (!stop || socket != null) {
                    failed.increment();
                }
                closeQuietly(socket);
                socket = null;
                pause();
            }
        }
        closeQuietly(socket);
    }

    private static void pause() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Socket socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /**
     * One HTTP/1.1 response, read whole.
     *
     * @param status the status code
     * @param close  whether the server ends the connection after it
     * @param body   the body
     */
    record Response(int status, boolean close, byte[] body) {

        static Response read(InputStream in) throws IOException {
            String statusLine = line(in);
            if (statusLine == null) {
                throw new IOException("connection closed before a response");
            }
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                throw new IOException("not an HTTP response: " + statusLine);
            }
            int status = Integer.parseInt(parts[1]);
            long length = -1;
            boolean chunked = false;
            boolean close = parts[0].equals("HTTP/1.0");
            String header;
            while ((header = line(in)) != null && !header.isEmpty()) {
                int colon = header.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String name = header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = header.substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    case "connection" -> close = value.equalsIgnoreCase("close");
                    default -> { }
                }
            }
            if (header == null) {
                throw new IOException("connection closed in the headers");
            }
            byte[] body;
            if (chunked) {
                java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
                while (true) {
                    String size = line(in);
                    if (size == null) {
                        throw new IOException("connection closed in a chunked body");
                    }
                    int semi = size.indexOf(';');
                    int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                    if (n == 0) {
                        while ((header = line(in)) != null && !header.isEmpty()) {
                            // trailers
                        }
                        break;
                    }
                    all.write(in.readNBytes(n));
                    line(in);
                }
                body = all.toByteArray();
            } else if (length >= 0) {
                body = in.readNBytes((int) length);
                if (body.length < length) {
                    throw new IOException("connection closed in the body");
                }
            } else if (status / 100 == 1 || status == 204 || status == 304) {
                body = new byte[0];
            } else {
                body = in.readAllBytes();
                close = true;
            }
            return new Response(status, close, body);
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    int len = line.length();
                    if (len > 0 && line.charAt(len - 1) == '\r') {
                        line.setLength(len - 1);
                    }
                    return line.toString();
                }
                line.append((char) c);
            }
            return line.isEmpty() ? null : line.toString();
        }
    }

    /**
     * One request on a new connection.
     *
     * @return the response
     * @throws IOException when it fails
     */
    static Response get(int port, String path, int timeoutMillis) throws IOException {
        try (Socket socket = new Socket()) {
            socket.setSoTimeout(timeoutMillis);
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return Response.read(new BufferedInputStream(socket.getInputStream()));
        }
    }
}
