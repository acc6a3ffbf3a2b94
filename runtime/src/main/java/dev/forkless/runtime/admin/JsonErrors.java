package dev.forkless.runtime.admin;

import java.nio.charset.StandardCharsets;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Errors the HTTP server answers itself, before or after the API's handlers (a body over the server's
 * limit, a request it cannot parse, a handler that threw): as JSON, {@code {"error": "..."}}, like the
 * API's own.
 */
final class JsonErrors {

    private JsonErrors() {
    }

    /** Answers every kind of error the server handles directly with JSON. */
    static void register(DirectHandlers.Builder handlers) {
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            handlers.addHandler(type, (request, event, status, headers, message) -> {
                if (status.code() >= 500 && unread(request)) {
                    // Helidon calls a request it could not even read (a method with non-ASCII bytes) an
                    // internal error: the fault is the client's
                    status = Status.BAD_REQUEST_400;
                }
                String reason = status.code() == 413 ? "the body is larger than "
                        + SharedStateEndpoint.MAX_VALUE_BYTES / 1024 + " KiB" : status.reasonPhrase().toLowerCase(java.util.Locale.ROOT);
                return DirectHandler.TransportResponse.builder()
                        .status(status)
                        .headers(headers)
                        .header(HeaderNames.CONTENT_TYPE, "application/json")
                        .keepAlive(event.keepAlive())
                        .entity(body(reason))
                        .build();
            });
        }
    }

    /** @return whether the server failed before it had read the request's first line */
    private static boolean unread(DirectHandler.TransportRequest request) {
        DirectHandler.TransportRequest empty = DirectHandler.TransportRequest.empty();
        return request == null || request == empty
                || (java.util.Objects.equals(request.method(), empty.method()) && java.util.Objects.equals(request.path(), empty.path()));
    }

    /** A handler that threw: 500, without the exception's text (it may say more than a client should see). */
    static void unexpected(ServerRequest req, ServerResponse res, Throwable error) {
        if (res.isSent()) {
            return;
        }
        if (!originForm(req)) {
            badTarget(res);
            return;
        }
        res.status(Status.INTERNAL_SERVER_ERROR_500);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(body("internal error: " + error.getClass().getSimpleName()));
    }

    /**
     * Refuses a request whose target is not a path ({@code http:%2F//x/...}): Helidon's routing can fail on
     * one with a NullPointerException, which would be a 500.
     */
    static void rejectOddTargets(io.helidon.webserver.http.FilterChain chain, io.helidon.webserver.http.RoutingRequest req,
                                 io.helidon.webserver.http.RoutingResponse res) {
        if (originForm(req)) {
            chain.proceed();
        } else {
            badTarget(res);
        }
    }

    private static boolean originForm(ServerRequest req) {
        try {
            String raw = req.prologue().uriPath().rawPath();
            return raw != null && raw.startsWith("/");
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void badTarget(ServerResponse res) {
        res.status(Status.BAD_REQUEST_400);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(body("the request target must be a path"));
    }

    static byte[] body(String message) {
        StringBuilder json = new StringBuilder("{\"error\":\"");
        for (char c : message.toCharArray()) {
            if (c == '"' || c == '\\') {
                json.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                json.append(String.format("\\u%04x", (int) c));
            } else {
                json.append(c);
            }
        }
        return json.append("\"}").toString().getBytes(StandardCharsets.UTF_8);
    }
}
