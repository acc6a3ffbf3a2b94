package dev.forkless.runtime.log;

/**
 * Makes a copy's text safe for the operator's terminal and for text log files: no character in it can
 * move the cursor, start a new line or talk to the terminal. A carriage return would let a copy print
 * over the start of its own line ({@code \r[w2] forged}: a line that seems to come from another copy);
 * an escape sequence could recolour, clear the screen or set the window's title. They are shown
 * escaped instead: {@code \r}, {@code \e}, {@code \x07}, {@code \u009b}. A tab stays a tab.
 */
public final class TerminalText {

    private TerminalText() {
    }

    /**
     * @param text        one line, without its line end
     * @param keepEscapes whether ESC may pass (colours, with {@code --console-escapes}); every other control
     *                    character is escaped even then
     * @return the line, escaped where needed (the same string when nothing needed it)
     */
    public static String clean(String text, boolean keepEscapes) {
        int i = 0;
        int n = text.length();
        while (i < n && !needsEscape(text.charAt(i), keepEscapes)) {
            i++;
        }
        if (i == n) {
            return text;
        }
        StringBuilder out = new StringBuilder(n + 16).append(text, 0, i);
        for (; i < n; i++) {
            char c = text.charAt(i);
            if (!needsEscape(c, keepEscapes)) {
                out.append(c);
                continue;
            }
            switch (c) {
                case '\r' -> out.append("\\r");
                case '\n' -> out.append("\\n");
                case 0x1b -> out.append("\\e");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x100) {
                        out.append(String.format("\\x%02x", (int) c));
                    } else {
                        out.append(String.format("\\u%04x", (int) c));
                    }
                }
            }
        }
        return out.toString();
    }

    /** @return whether a character must not reach a terminal as it is */
    static boolean needsEscape(char c, boolean keepEscapes) {
        if (c == '\t') {
            return false;
        }
        if (c == 0x1b) {
            return !keepEscapes;
        }
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) // C0, DEL, C1 (0x9b is a one-byte CSI on some terminals)
                || c == 0x2028 || c == 0x2029 // line and paragraph separators
                || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069); // bidi overrides: text shown reversed
    }
}
