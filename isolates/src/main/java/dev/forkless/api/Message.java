package dev.forkless.api;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A message between the runtime and a copy of the app: text or bytes, nothing object-shaped (JSON, if
 * any, is the app's business). Immutable.
 */
public final class Message {

    private final String text;
    private final byte[] bytes;

    private Message(String text, byte[] bytes) {
        this.text = text;
        this.bytes = bytes;
    }

    /**
     * @param text the text
     * @return a text message
     */
    public static Message of(String text) {
        return new Message(Objects.requireNonNull(text, "text"), null);
    }

    /**
     * @param bytes the bytes, copied
     * @return a binary message
     */
    public static Message of(byte[] bytes) {
        return new Message(null, Objects.requireNonNull(bytes, "bytes").clone());
    }

    /** @return whether it was sent as text */
    public boolean isText() {
        return text != null;
    }

    /** @return the text, or the bytes decoded as UTF-8 */
    public String text() {
        return text != null ? text : new String(bytes, StandardCharsets.UTF_8);
    }

    /** @return a copy of the bytes, or the text encoded as UTF-8 */
    public byte[] bytes() {
        return text != null ? text.getBytes(StandardCharsets.UTF_8) : bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Message m && Objects.equals(text, m.text) && Arrays.equals(bytes, m.bytes);
    }

    @Override
    public int hashCode() {
        return text != null ? text.hashCode() : Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return text != null ? "Message[" + text + "]" : "Message[" + bytes.length + " bytes]";
    }
}
