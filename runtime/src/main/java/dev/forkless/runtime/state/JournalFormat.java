package dev.forkless.runtime.state;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * The lines of the shared-state journal ({@link StateFile}), on its own, independent of the control
 * protocol of process mode. UTF-8 text, one record per line, each ended by {@code \n}:
 *
 * <pre>
 * forkless-state 1             the header: the format and its version, the file's first line
 * put KEY VALUE                KEY now has VALUE
 * del KEY                      KEY was removed
 * </pre>
 *
 * KEY and VALUE are base64 (RFC 4648, with padding) of their UTF-8 bytes; the empty string is an empty
 * word ({@code put a2V5 } ends with the space). Whatever a key or value holds (spaces, newlines, any
 * Unicode), a record stays one line of ASCII.
 *
 * <p>A file without the header was written before this format (Forkless up to 2026-12): lines of
 * space-separated URL-encoded words, an empty word written {@code %00}. It is read as such, and
 * {@link StateFile} rewrites it in this format when it opens it.
 */
final class JournalFormat {

    static final int VERSION = 1;
    static final String HEADER = "forkless-state " + VERSION;
    private static final String HEADER_PREFIX = "forkless-state ";

    private JournalFormat() {
    }

    /** @return the header line, with its newline */
    static byte[] header() {
        return (HEADER + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @param key   the key
     * @param value its value, or {@code null}: removed
     * @return the record, with its newline
     */
    static byte[] record(String key, String value) {
        String line = value == null ? "del " + word(key) : "put " + word(key) + " " + word(value);
        return (line + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static String word(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @param firstLine the file's first line
     * @return whether the file is in this format ({@code false}: the format before it)
     * @throws IllegalArgumentException when it is this format, in a version this build cannot read
     */
    static boolean isHeader(String firstLine) {
        if (!firstLine.startsWith(HEADER_PREFIX)) {
            return false;
        }
        if (!firstLine.equals(HEADER)) {
            throw new IllegalArgumentException("'" + firstLine + "' is not a journal version this Forkless reads ("
                    + VERSION + ")");
        }
        return true;
    }

    /**
     * Applies one record to the values.
     *
     * @param line   a record, without its newline
     * @param legacy whether the file is in the format before this one
     * @param values the values so far
     * @throws IllegalArgumentException when the line is no record
     */
    static void apply(String line, boolean legacy, Map<String, String> values) {
        // the format before this one never wrote an empty word: it split as the control protocol did then
        String[] words = legacy ? line.strip().split(" ") : line.split(" ", -1);
        switch (words[0]) {
            case "put" -> {
                expect(words, 3);
                values.put(decode(words[1], legacy), decode(words[2], legacy));
            }
            case "del" -> {
                expect(words, 2);
                values.remove(decode(words[1], legacy));
            }
            default -> throw new IllegalArgumentException("unknown record '" + words[0] + "'");
        }
    }

    private static void expect(String[] words, int count) {
        if (words.length != count) {
            throw new IllegalArgumentException(words[0] + " takes " + (count - 1) + " word(s), not " + (words.length - 1));
        }
    }

    private static String decode(String word, boolean legacy) {
        if (legacy) {
            return word.equals("%00") ? "" : URLDecoder.decode(word, StandardCharsets.UTF_8);
        }
        return new String(Base64.getDecoder().decode(word), StandardCharsets.UTF_8);
    }
}
