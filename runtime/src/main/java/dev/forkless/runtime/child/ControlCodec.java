package dev.forkless.runtime.child;

import dev.forkless.runtime.child.ControlMessage.Accept;
import dev.forkless.runtime.child.ControlMessage.Instance;
import dev.forkless.runtime.child.ControlMessage.AppMessage;
import dev.forkless.runtime.child.ControlMessage.BadApp;
import dev.forkless.runtime.child.ControlMessage.Bind;
import dev.forkless.runtime.child.ControlMessage.BindFailed;
import dev.forkless.runtime.child.ControlMessage.Bound;
import dev.forkless.runtime.child.ControlMessage.Crashed;
import dev.forkless.runtime.child.ControlMessage.Drain;
import dev.forkless.runtime.child.ControlMessage.Draining;
import dev.forkless.runtime.child.ControlMessage.Exited;
import dev.forkless.runtime.child.ControlMessage.Hello;
import dev.forkless.runtime.child.ControlMessage.Put;
import dev.forkless.runtime.child.ControlMessage.PutDone;
import dev.forkless.runtime.child.ControlMessage.Ready;
import dev.forkless.runtime.child.ControlMessage.Snapshot;
import dev.forkless.runtime.child.ControlMessage.Started;
import dev.forkless.runtime.child.ControlMessage.State;
import dev.forkless.runtime.child.ControlMessage.Stats;
import dev.forkless.runtime.child.ControlMessage.Unload;
import dev.forkless.runtime.child.ControlMessage.Unloaded;

import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The wire format of the control channel, and the one place that knows it: a message is one line of
 * space-separated words, the first naming the message, each other word URL-encoded (UTF-8), an empty
 * word written as a lone {@code %} (which URL encoding never produces). A value that may be absent
 * ({@code null}) is two words: a flag ({@code 1} present, {@code 0} absent) and the value. Lists and maps
 * are flattened into words (a map: key, value, key, value...; the socket options and leftover threads:
 * one word, comma-separated).
 *
 * <pre>
 * child to runtime                       runtime to child
 * hello TOKEN PID                        bound REQ            (the socket's descriptor attached)
 * started                                bindfailed REQ REASON
 * badapp REASON                          accept
 * bind REQ HOST PORT BACKLOG OPTIONS     drain
 * ready                                  unload GRACE_MS
 * stats OPEN REQUESTS OLDEST_MS AWAY_MS  snapshot KEY VALUE ...
 * draining                               state KEY PRESENT VALUE
 * exited STATUS                          putdone REQ FAILED ERROR
 * crashed CAUSE TRACE
 * unloaded FORCED THREADS
 * put REQ KEY PRESENT VALUE
 * both ways: msg KIND PAYLOAD RELAY      (KIND t: text, b: base64 bytes; RELAY 1: pass it on to every copy)
 * </pre>
 *
 * <p>{@link #decode} checks every word (count, numbers, flags, base64): a line that is not a message
 * is a {@link MalformedMessageException}, never some other exception in the reader. Internal to Forkless.
 */
public final class ControlCodec {

    private static final String EMPTY = "%";

    private ControlCodec() {
    }

    /** A line that is no control message. */
    public static final class MalformedMessageException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedMessageException(String message) {
            super(message);
        }
    }

    // ---- encoding ----

    /**
     * @param message a message
     * @return it as one line, with its newline
     */
    public static byte[] encode(ControlMessage message) {
        List<String> words = switch (message) {
            case Hello m -> List.of("hello", m.token(), String.valueOf(m.pid()));
            case Started m -> List.of("started");
            case BadApp m -> List.of("badapp", m.reason());
            case Bind m -> List.of("bind", m.request(), m.host(), String.valueOf(m.port()), String.valueOf(m.backlog()),
                    joinOptions(m.options()));
            case Ready m -> List.of("ready");
            case Stats m -> List.of("stats", String.valueOf(m.openConnections()), String.valueOf(m.requests()),
                    String.valueOf(m.oldestRequestMillis()), String.valueOf(m.acceptorAwayMillis()));
            case Draining m -> List.of("draining");
            case Exited m -> List.of("exited", String.valueOf(m.status()));
            case Crashed m -> List.of("crashed", m.cause(), m.stackTrace());
            case Unloaded m -> List.of("unloaded", String.valueOf(m.forcedConnections()),
                    String.join(",", m.leftoverThreads()));
            case Put m -> List.of("put", m.request(), m.key(), flag(m.value() != null), orEmpty(m.value()));
            case Bound m -> List.of("bound", m.request());
            case BindFailed m -> List.of("bindfailed", m.request(), m.reason());
            case Accept m -> List.of("accept");
            case Instance m -> List.of("instance", String.valueOf(m.number()));
            case Drain m -> List.of("drain");
            case Unload m -> List.of("unload", String.valueOf(m.graceMillis()));
            case Snapshot m -> {
                List<String> all = new ArrayList<>();
                all.add("snapshot");
                m.state().forEach((k, v) -> {
                    all.add(k);
                    all.add(v);
                });
                yield all;
            }
            case State m -> List.of("state", m.key(), flag(m.value() != null), orEmpty(m.value()));
            case PutDone m -> List.of("putdone", m.request(), flag(m.error() != null), orEmpty(m.error()));
            case AppMessage m -> List.of("msg", m.binary() ? "b" : "t", m.payload(), flag(m.relay()));
        };
        StringBuilder line = new StringBuilder(words.getFirst());
        for (String word : words.subList(1, words.size())) {
            line.append(' ').append(word.isEmpty() ? EMPTY : URLEncoder.encode(word, StandardCharsets.UTF_8));
        }
        return line.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String flag(boolean on) {
        return on ? "1" : "0";
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }

    private static String joinOptions(Map<String, String> options) {
        StringBuilder joined = new StringBuilder();
        options.forEach((name, value) -> {
            if (name.contains(",") || name.contains("=") || value.contains(",")) {
                throw new IllegalArgumentException("a socket option cannot hold ',' or '=': " + name + "=" + value);
            }
            joined.append(joined.isEmpty() ? "" : ",").append(name).append('=').append(value);
        });
        return joined.toString();
    }

    // ---- decoding ----

    /**
     * @param line a line from a child, without its newline
     * @return the message
     * @throws MalformedMessageException when it is not a message a child sends
     */
    public static ControlMessage.ToRuntime decodeFromChild(String line) throws MalformedMessageException {
        if (decode(line) instanceof ControlMessage.ToRuntime message) {
            return message;
        }
        throw new MalformedMessageException("not a message a child sends: " + abbreviate(line));
    }

    /**
     * @param line a line from the runtime, without its newline
     * @return the message
     * @throws MalformedMessageException when it is not a message the runtime sends
     */
    public static ControlMessage.ToChild decodeFromRuntime(String line) throws MalformedMessageException {
        if (decode(line) instanceof ControlMessage.ToChild message) {
            return message;
        }
        throw new MalformedMessageException("not a message the runtime sends: " + abbreviate(line));
    }

    /**
     * @param line one line, without its newline
     * @return the message
     * @throws MalformedMessageException when the line is not a message
     */
    public static ControlMessage decode(String line) throws MalformedMessageException {
        Words w = new Words(line);
        ControlMessage message = switch (w.type) {
            case "hello" -> new Hello(w.text(), w.number());
            case "started" -> new Started();
            case "badapp" -> new BadApp(w.text());
            case "bind" -> new Bind(w.text(), w.text(), w.integer(), w.integer(), w.options());
            case "ready" -> new Ready();
            case "stats" -> new Stats(w.integer(), w.number(), w.number(), w.number());
            case "draining" -> new Draining();
            case "exited" -> new Exited(w.integer());
            case "crashed" -> new Crashed(w.text(), w.text());
            case "unloaded" -> new Unloaded(w.integer(), w.list());
            case "put" -> new Put(w.text(), w.text(), w.optional());
            case "bound" -> new Bound(w.text());
            case "bindfailed" -> new BindFailed(w.text(), w.text());
            case "accept" -> new Accept();
            case "instance" -> new Instance(w.integer());
            case "drain" -> new Drain();
            case "unload" -> new Unload(w.number());
            case "snapshot" -> new Snapshot(w.restAsMap());
            case "state" -> new State(w.text(), w.optional());
            case "putdone" -> new PutDone(w.text(), w.optional());
            case "msg" -> w.appMessage();
            default -> throw new MalformedMessageException("unknown message '" + abbreviate(w.type) + "'");
        };
        w.end();
        return message;
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "...";
    }

    /** The words of one line, taken in order; every mistake is a {@link MalformedMessageException}. */
    private static final class Words {
        private final String line;
        private final String type;
        private final String[] words;
        private int next = 1;

        Words(String line) throws MalformedMessageException {
            this.line = line;
            String stripped = line.strip();
            if (stripped.isEmpty()) {
                throw new MalformedMessageException("an empty line");
            }
            this.words = stripped.split(" ", -1);
            this.type = words[0];
        }

        String text() throws MalformedMessageException {
            if (next >= words.length) {
                throw malformed("a word is missing");
            }
            String word = words[next++];
            if (word.equals(EMPTY)) {
                return "";
            }
            try {
                return URLDecoder.decode(word, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw malformed("a word is not URL-encoded (" + e.getMessage() + ")");
            }
        }

        int integer() throws MalformedMessageException {
            long value = number();
            if (value != (int) value) {
                throw malformed(value + " is out of range");
            }
            return (int) value;
        }

        long number() throws MalformedMessageException {
            String word = text();
            try {
                return Long.parseLong(word);
            } catch (NumberFormatException e) {
                throw malformed("'" + abbreviate(word) + "' is not a number");
            }
        }

        boolean flag() throws MalformedMessageException {
            return switch (text()) {
                case "1" -> true;
                case "0" -> false;
                default -> throw malformed("a flag is neither 0 nor 1");
            };
        }

        String optional() throws MalformedMessageException {
            boolean present = flag();
            String value = text();
            return present ? value : null;
        }

        List<String> list() throws MalformedMessageException {
            String word = text();
            return word.isEmpty() ? List.of() : List.of(word.split(","));
        }

        Map<String, String> options() throws MalformedMessageException {
            Map<String, String> options = new LinkedHashMap<>();
            for (String pair : list()) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw malformed("'" + abbreviate(pair) + "' is no NAME=VALUE socket option");
                }
                options.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
            return options;
        }

        Map<String, String> restAsMap() throws MalformedMessageException {
            if ((words.length - next) % 2 != 0) {
                throw malformed("a key has no value");
            }
            Map<String, String> map = new LinkedHashMap<>();
            while (next < words.length) {
                map.put(text(), text());
            }
            return map;
        }

        AppMessage appMessage() throws MalformedMessageException {
            String kind = text();
            String payload = text();
            boolean relay = flag();
            boolean binary = switch (kind) {
                case "b" -> true;
                case "t" -> false;
                default -> throw malformed("a message's kind is neither t nor b");
            };
            if (binary) {
                try {
                    Base64.getDecoder().decode(payload);
                } catch (IllegalArgumentException e) {
                    throw malformed("a message's bytes are not base64");
                }
            }
            return new AppMessage(binary, payload, relay);
        }

        void end() throws MalformedMessageException {
            if (next < words.length) {
                throw malformed((words.length - next) + " word(s) too many");
            }
        }

        private MalformedMessageException malformed(String why) {
            return new MalformedMessageException(type + ": " + why + " in '" + abbreviate(line) + "'");
        }
    }

    /** Splits a byte stream into lines (UTF-8, without their newlines). */
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
