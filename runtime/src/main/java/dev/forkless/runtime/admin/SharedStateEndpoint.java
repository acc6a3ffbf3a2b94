package dev.forkless.runtime.admin;

import dev.forkless.runtime.state.SharedStore;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The admin API's shared-state resource, independent of the HTTP server that routes to it (the caller
 * has checked the admin token): {@code GET /api/shared}, {@code GET|PUT|DELETE /api/shared/{key}}. A PUT
 * answers 204 once the change is persisted (with a state file) and pushed to every copy. A value is
 * answered as text; every error as JSON, {@code {"error": "..."}}.
 */
public final class SharedStateEndpoint {

    /** Longest value a PUT may set. */
    public static final int MAX_VALUE_BYTES = 1 << 20;

    /**
     * An answer.
     *
     * @param status      the HTTP status
     * @param contentType its content type, or {@code null} without a body
     * @param body        the body
     */
    public record Reply(int status, String contentType, String body) {
    }

    private final SharedStore store;

    /** @param store the runtime's shared state ({@code Forkless.sharedState()}) */
    public SharedStateEndpoint(SharedStore store) {
        this.store = store;
    }

    /**
     * {@code PUT /api/shared/{key}}: the body (UTF-8 text) becomes the key's value.
     *
     * @param key  the key, already URL-decoded
     * @param body the request body
     * @return 204, 400 for an empty key or a body that is not UTF-8, 413 when too long, 500 when it could
     *         not be persisted
     */
    public Reply put(String key, byte[] body) {
        if (key == null || key.isEmpty()) {
            return text(400, "the key must not be empty");
        }
        if (body.length > MAX_VALUE_BYTES) {
            return text(413, "a shared value is at most " + MAX_VALUE_BYTES + " bytes");
        }
        String value;
        try {
            value = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            return text(400, "the value must be UTF-8 text");
        }
        try {
            store.put(key, value);
        } catch (java.io.UncheckedIOException e) {
            return text(500, e.getMessage());
        }
        return new Reply(204, null, "");
    }

    /**
     * {@code GET /api/shared/{key}}.
     *
     * @param key the key
     * @return 200 with the value as text, or 404
     */
    public Reply get(String key) {
        String value = store.get(key);
        return value == null ? text(404, "no such key") : text(200, value);
    }

    /**
     * {@code DELETE /api/shared/{key}}.
     *
     * @param key the key
     * @return 204, or 404 when there was no such key
     */
    public Reply delete(String key) {
        try {
            return store.remove(key) ? new Reply(204, null, "") : text(404, "no such key");
        } catch (java.io.UncheckedIOException e) {
            return text(500, e.getMessage());
        }
    }

    /** @return {@code GET /api/shared}: every key and value as one JSON object, keys sorted */
    public Reply list() {
        StringBuilder json = new StringBuilder("{");
        for (Map.Entry<String, String> e : new TreeMap<>(store.snapshot()).entrySet()) {
            if (json.length() > 1) {
                json.append(',');
            }
            quote(json, e.getKey()).append(':');
            quote(json, e.getValue());
        }
        return new Reply(200, "application/json", json.append('}').toString());
    }

    private static Reply text(int status, String body) {
        if (status >= 400) {
            return new Reply(status, "application/json", quote(new StringBuilder("{\"error\":"), body).append('}').toString());
        }
        return new Reply(status, "text/plain; charset=UTF-8", body);
    }

    private static StringBuilder quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }
}
