package dev.forkless.runtime.cli;

import dev.forkless.runtime.admin.AdminAddress;
import dev.forkless.runtime.admin.AdminServer;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Talks to a running runtime's admin API, for the CLI's client commands. */
final class AdminClient {

    private final AdminAddress address;
    private final Optional<Path> explicitTokenFile;
    private final Path defaultTokenFile;
    /** The longest any one request waits: the command's {@code --timeout}, when shorter than a read's or ping's. */
    private final Duration limit;
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(3))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    private final ObjectMapper json = new ObjectMapper();

    AdminClient(AdminAddress address, Optional<Path> tokenFile) {
        this(address, tokenFile, Optional.empty());
    }

    /**
     * @param address    the admin API's address
     * @param tokenFile  the token file given with {@code --token-file}: it must be readable
     * @param registered the token file the runtime registered, read when none is given (default: the one
     *                   for the address's port, {@link AdminServer#defaultTokenFile})
     */
    AdminClient(AdminAddress address, Optional<Path> tokenFile, Optional<Path> registered) {
        this(address, tokenFile, registered, Duration.ofDays(1));
    }

    /**
     * @param limit the longest any one request waits, the ping and the reads included (a command's
     *              {@code --timeout}: a script that gives 2 s is answered within about 2 s)
     */
    AdminClient(AdminAddress address, Optional<Path> tokenFile, Optional<Path> registered, Duration limit) {
        this.address = address;
        this.explicitTokenFile = tokenFile;
        this.defaultTokenFile = registered.orElseGet(() -> AdminServer.defaultTokenFile(address.port()));
        this.limit = limit;
    }

    /** No runtime answered at the address. */
    static final class Unreachable extends Exception {
        Unreachable(String message) {
            super(message, null, false, false);
        }
    }

    /** An answer: its status and JSON body ({@code null} when it had none or it was no JSON). */
    record Response(int status, JsonNode body) {
        boolean ok() {
            return status / 100 == 2;
        }

        /** @return the server's reason: its {@code error} or {@code reason}, else the status */
        String reason() {
            if (body != null && body.hasNonNull("error")) {
                return body.get("error").asText();
            }
            if (body != null && body.hasNonNull("reason") && !body.get("reason").asText().isEmpty()) {
                return body.get("reason").asText();
            }
            return "HTTP " + status;
        }
    }

    String url() {
        return address.url();
    }

    /** How long a read (list, monit, a health check) waits for its answer. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    /** How long the check that the runtime answers at all waits, before an operation that may take minutes. */
    static final Duration PING_TIMEOUT = Duration.ofSeconds(5);
    /** The largest answer read: the API's answers are small JSON documents. */
    private static final int MAX_ANSWER = 16 << 20;

    Response get(String path) throws Unreachable, IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
        token().ifPresent(t -> request.header("Authorization", "Bearer " + t));
        return send(request, READ_TIMEOUT);
    }

    /**
     * Checks that a runtime answers at the address at all (any HTTP answer will do), so that an operation
     * that may take minutes is not sent to a port that accepts and never answers.
     *
     * @throws Unreachable when nothing answers within {@link #PING_TIMEOUT}
     */
    void ping() throws Unreachable {
        send(HttpRequest.newBuilder(uri("/health/live")).GET(), PING_TIMEOUT);
    }

    /**
     * POSTs with the token (when one can be read), after a {@link #ping}; operations can take minutes (a
     * reload of many copies).
     *
     * @param timeout how long to wait for the answer
     */
    Response post(String path, Duration timeout) throws Unreachable, IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody());
        token().ifPresent(t -> request.header("Authorization", "Bearer " + t));
        ping();
        return send(request, timeout);
    }

    /**
     * @return the token from {@code --token-file}, or from the runtime's default file for this port
     * @throws IOException when a token file given with {@code --token-file} cannot be read, naming why
     */
    Optional<String> token() throws IOException {
        Path file = explicitTokenFile.orElse(defaultTokenFile);
        try {
            java.nio.file.attribute.BasicFileAttributes attributes =
                    Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
            if (!attributes.isRegularFile() || attributes.size() > 64 * 1024) {
                throw new IOException("--token-file " + file + ": " + (attributes.isDirectory() ? "it is a directory"
                        : attributes.isRegularFile() ? "larger than 64 KiB: not a token file" : "not a regular file"));
            }
            String token = Files.readString(file, StandardCharsets.UTF_8).trim();
            return token.isEmpty() ? Optional.empty() : Optional.of(token);
        } catch (NoSuchFileException e) {
            if (explicitTokenFile.isPresent()) {
                throw new IOException("--token-file " + file + ": no such file");
            }
            return Optional.empty();
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IOException("--token-file " + file + ": not UTF-8 text");
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("--token-file")) {
                throw e;
            }
            if (explicitTokenFile.isEmpty()) {
                return Optional.empty(); // the default file is unreadable: try without, the runtime says if it needs it
            }
            throw new IOException("--token-file " + file + ": " + dev.forkless.runtime.IoReason.of(e));
        }
    }

    /** @return the token file this client reads */
    Path tokenFile() {
        return explicitTokenFile.orElse(defaultTokenFile);
    }

    private URI uri(String path) {
        return URI.create(address.url() + path);
    }

    /**
     * Sends a request and reads its answer, all within {@code timeout}: a runtime that accepts and never
     * answers, or answers without end, cannot hold a client command for longer.
     */
    private Response send(HttpRequest.Builder request, Duration wanted) throws Unreachable {
        Duration timeout = wanted.compareTo(limit) > 0 ? limit : wanted;
        long deadline = System.nanoTime() + timeout.toNanos();
        java.util.concurrent.CompletableFuture<HttpResponse<java.io.InputStream>> sent =
                http.sendAsync(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<java.io.InputStream> response;
        byte[] bytes;
        try {
            response = sent.get(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
            java.io.InputStream in = response.body();
            java.util.concurrent.CompletableFuture<byte[]> body = new java.util.concurrent.CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try (in) {
                    body.complete(in.readNBytes(MAX_ANSWER));
                } catch (IOException | RuntimeException e) {
                    body.completeExceptionally(e);
                }
            });
            try {
                bytes = body.get(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                in.close();
                throw e;
            }
        } catch (java.util.concurrent.TimeoutException e) {
            sent.cancel(true);
            throw new Unreachable("no answer from " + address.url() + " within " + seconds(timeout)
                    + " (is it a Forkless admin port?)");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ConnectException || cause instanceof HttpConnectTimeoutException) {
                throw new Unreachable("no runtime reachable at " + address.url() + " (" + describe((Exception) cause) + ")");
            }
            if (cause instanceof java.net.http.HttpTimeoutException) {
                throw new Unreachable("no answer from " + address.url() + " within " + seconds(timeout)
                        + " (is it a Forkless admin port?)");
            }
            throw new Unreachable("no runtime answered at " + address.url() + " ("
                    + (cause instanceof Exception ex ? describe(ex) : String.valueOf(cause)) + ")");
        } catch (IOException e) {
            throw new Unreachable("no runtime answered at " + address.url() + " (" + describe(e) + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted");
        }
        JsonNode body = null;
        try {
            body = bytes.length == 0 ? null : json.readTree(bytes);
        } catch (IOException notJson) {
            // not the admin API: the status says enough
        }
        return new Response(response.statusCode(), body);
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
