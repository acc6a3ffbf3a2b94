package dev.forkless.runtime.child;

import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * One message on the control channel between the runtime and a child JVM: a line of
 * space-separated, URL-encoded words, the first naming the message. Internal to Forkless.
 *
 * <p>Child to runtime: {@code hello TOKEN PID}, {@code started}, {@code badapp MESSAGE},
 * {@code bind REQ HOST PORT BACKLOG OPTIONS}, {@code ready}, {@code stats OPEN REQUESTS},
 * {@code draining}, {@code exited STATUS}, {@code crashed TEXT TRACE}, {@code unloaded FORCED THREADS}.
 * Runtime to child: {@code bound REQ} (with the listening socket's descriptor attached),
 * {@code bindfailed REQ MESSAGE}, {@code accept}, {@code drain}, {@code unload GRACE_MS}.
 * Both ways: {@code msg KIND PAYLOAD RELAY} (an app message: {@code t} text, {@code b} base64 bytes;
 * relay, from a child only: pass it on to every copy). Shared state: {@code snapshot KEY VALUE...}
 * (runtime to child, before the app starts), {@code state KEY VALUE PRESENT} (runtime to child),
 * {@code put REQ KEY VALUE PRESENT} (child to runtime), {@code putdone REQ ERROR} (runtime to child).
 *
 * @param type the message's name
 * @param args its words
 */
public record ControlMessage(String type, List<String> args) {

    /** Child to runtime: the child connected; it proves it was started by this runtime. */
    public static final String HELLO = "hello";
    /** Child to runtime: the app's main runs. */
    public static final String STARTED = "started";
    /** Child to runtime: the app could not be started. */
    public static final String BAD_APP = "badapp";
    /** Child to runtime: the app binds an address. */
    public static final String BIND = "bind";
    /** Runtime to child: the listening socket, attached. */
    public static final String BOUND = "bound";
    /** Runtime to child: the address could not be bound. */
    public static final String BIND_FAILED = "bindfailed";
    /** Child to runtime: the app is ready. */
    public static final String READY = "ready";
    /** Child to runtime: open connections and requests served. */
    public static final String STATS = "stats";
    /** Child to runtime: the child drains. */
    public static final String DRAINING = "draining";
    /** Child to runtime: the app exited. */
    public static final String EXITED = "exited";
    /** Child to runtime: the app crashed. */
    public static final String CRASHED = "crashed";
    /** Child to runtime: the app was unloaded; the child exits next. */
    public static final String UNLOADED = "unloaded";
    /** Runtime to child: take connections. */
    public static final String ACCEPT = "accept";
    /** Runtime to child: stop taking connections, close connections after their current response. */
    public static final String DRAIN = "drain";
    /** Runtime to child: unload the app and exit. */
    public static final String UNLOAD = "unload";

    /** Both ways: a message of the app. */
    public static final String MSG = "msg";
    /** Runtime to child: the whole shared state, before the app starts. */
    public static final String SNAPSHOT = "snapshot";
    /** Runtime to child: one key of the shared state changed. */
    public static final String STATE = "state";
    /** Child to runtime: the app changes the shared state. */
    public static final String PUT = "put";
    /** Runtime to child: the change was taken (ERROR empty) or not. */
    public static final String PUT_DONE = "putdone";

    public ControlMessage {
        args = List.copyOf(args);
    }

    /**
     * @param type the message's name
     * @param args its words
     * @return the message
     */
    public static ControlMessage of(String type, Object... args) {
        return new ControlMessage(type, Arrays.stream(args).map(String::valueOf).toList());
    }

    /**
     * @param message an app message
     * @param relay   whether the runtime passes it on to every copy
     * @return it as a control message
     */
    public static ControlMessage of(dev.forkless.api.Message message, boolean relay) {
        return message.isText()
                ? of(MSG, "t", message.text(), relay ? "1" : "0")
                : of(MSG, "b", java.util.Base64.getEncoder().encodeToString(message.bytes()), relay ? "1" : "0");
    }

    /** @return the app message of a {@link #MSG} */
    public dev.forkless.api.Message appMessage() {
        return arg(0).equals("b") ? dev.forkless.api.Message.of(java.util.Base64.getDecoder().decode(arg(1)))
                : dev.forkless.api.Message.of(arg(1));
    }

    /** @return whether a {@link #MSG} asks to be passed on to every copy */
    public boolean relay() {
        return arg(2).equals("1");
    }

    /**
     * @param i the word's index
     * @return the word
     */
    public String arg(int i) {
        return i < args.size() ? args.get(i) : "";
    }

    /** @return the message as one line, with its newline */
    public byte[] encode() {
        StringBuilder line = new StringBuilder(type);
        for (String arg : args) {
            line.append(' ').append(arg.isEmpty() ? "%00" : URLEncoder.encode(arg, StandardCharsets.UTF_8));
        }
        return line.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @param line one line, without its newline
     * @return the message
     */
    public static ControlMessage decode(String line) {
        String[] words = line.strip().split(" ");
        List<String> args = new ArrayList<>();
        for (int i = 1; i < words.length; i++) {
            args.add(words[i].equals("%00") ? "" : URLDecoder.decode(words[i], StandardCharsets.UTF_8));
        }
        return new ControlMessage(words[0], args);
    }

    /** Splits a byte stream into lines; the descriptor that came with a chunk goes with its first line. */
    public static final class LineSplitter {
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

        /**
         * @param data  the bytes that came
         * @param lines receives each complete line
         */
        public void feed(byte[] data, Consumer<String> lines) {
            int start = 0;
            for (int i = 0; i < data.length; i++) {
                if (data[i] == '\n') {
                    partial.write(data, start, i - start);
                    lines.accept(partial.toString(StandardCharsets.UTF_8));
                    partial.reset();
                    start = i + 1;
                }
            }
            partial.write(data, start, data.length - start);
        }
    }
}
