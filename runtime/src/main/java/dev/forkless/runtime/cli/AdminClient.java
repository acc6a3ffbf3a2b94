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
    private final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(3))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    private final ObjectMapper json = new ObjectMapper();

    AdminClient(AdminAddress address, Optional<Path> tokenFile) {
        this.address = address;
        this.explicitTokenFile = tokenFile;
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

    Response get(String path) throws Unreachable {
        return send(HttpRequest.newBuilder(uri(path)).GET(), Duration.ofSeconds(10));
    }

    /** POSTs with the token (when one can be read); operations can take minutes (a reload of many copies). */
    Response post(String path) throws Unreachable, IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody());
        token().ifPresent(t -> request.header("Authorization", "Bearer " + t));
        return send(request, Duration.ofMinutes(15));
    }

    /**
     * @return the token from {@code --token-file}, or from the runtime's default file for this port
     * @throws IOException when a token file given with {@code --token-file} cannot be read
     */
    Optional<String> token() throws IOException {
        Path file = explicitTokenFile.orElseGet(() -> AdminServer.defaultTokenFile(address.port()));
        try {
            String token = Files.readString(file, StandardCharsets.UTF_8).trim();
            return token.isEmpty() ? Optional.empty() : Optional.of(token);
        } catch (NoSuchFileException e) {
            if (explicitTokenFile.isPresent()) {
                throw new IOException("no token file " + file);
            }
            return Optional.empty();
        }
    }

    /** @return the token file this client reads */
    Path tokenFile() {
        return explicitTokenFile.orElseGet(() -> AdminServer.defaultTokenFile(address.port()));
    }

    private URI uri(String path) {
        return URI.create(address.url() + path);
    }

    private Response send(HttpRequest.Builder request, Duration timeout) throws Unreachable {
        HttpResponse<String> response;
        try {
            response = http.send(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new Unreachable("no runtime reachable at " + address.url() + " (" + describe(e) + ")");
        } catch (IOException e) {
            throw new Unreachable("no runtime answered at " + address.url() + " (" + describe(e) + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted");
        }
        JsonNode body = null;
        try {
            body = response.body().isEmpty() ? null : json.readTree(response.body());
        } catch (IOException notJson) {
            // not the admin API: the status says enough
        }
        return new Response(response.statusCode(), body);
    }

    private static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
