package dev.forkless.runtime.child;

import dev.forkless.runtime.child.ControlCodec.MalformedMessageException;
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

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlCodecTest {

    /** Awkward text: spaces, a newline, percent signs, plus, non-ASCII, the empty string's encoding. */
    private static final String ODD = "a b\nc %00 % +x=y,z é \u0000 ☃";

    /** Every message, each with words that a naive encoding would break on. */
    private static List<ControlMessage> everyMessage() {
        Map<String, String> state = new LinkedHashMap<>();
        state.put("k", "v");
        state.put(ODD, "");
        state.put("", ODD);
        return List.of(
                new Hello("t0k3n", 12345L),
                new Started(),
                new BadApp("cannot load the main class " + ODD),
                new Bind("7", "127.0.0.1", 8080, 50, Map.of("SO_RCVBUF", "65536", "SO_REUSEADDR", "true")),
                new Bind("8", "::1", 0, 0, Map.of()),
                new Ready(),
                new Stats(3, 9_000_000_000L, 0, 1234),
                new Draining(),
                new Exited(-1),
                new Exited(143),
                new Crashed("java.lang.IllegalStateException: " + ODD, "\tat x.y(Z.java:1)\n\tat a.b(C.java:2)\n"),
                new Crashed("", ""),
                new Unloaded(2, List.of()),
                new Unloaded(0, List.of("worker-1", "worker 2")),
                new Put("9", ODD, ODD),
                new Put("10", "k", ""),
                new Put("11", "k", null),
                new Bound("7"),
                new BindFailed("8", "Address already in use " + ODD),
                new Accept(),
                new Instance(0),
                new Instance(41),
                new Drain(),
                new Unload(30_000),
                new Snapshot(Map.of()),
                new Snapshot(state),
                new State(ODD, ODD),
                new State("k", ""),
                new State("k", null),
                new PutDone("9", null),
                new PutDone("10", ""),
                new PutDone("11", "the state file is full " + ODD),
                new AppMessage(false, ODD, false),
                new AppMessage(false, "", true),
                new AppMessage(true, "AAEC/w==", true),
                AppMessage.of(dev.forkless.api.Message.of(new byte[] {0, 1, 2, (byte) 255}), false));
    }

    @Test
    void everyMessageSurvivesTheWire() throws Exception {
        for (ControlMessage message : everyMessage()) {
            byte[] line = ControlCodec.encode(message);
            String text = new String(line, StandardCharsets.UTF_8);
            assertEquals(1, text.chars().filter(c -> c == '\n').count(), "one line: " + text);
            assertTrue(text.endsWith("\n"), text);
            assertEquals(message, ControlCodec.decode(text.substring(0, text.length() - 1)), text);
        }
    }

    @Test
    void theListAboveHoldsEveryKindOfMessage() {
        Set<Class<?>> covered = new HashSet<>();
        everyMessage().forEach(m -> covered.add(m.getClass()));
        Set<Class<?>> records = new HashSet<>();
        Deque<Class<?>> todo = new ArrayDeque<>(List.of(ControlMessage.class));
        while (!todo.isEmpty()) {
            Class<?> type = todo.pop();
            if (type.isRecord()) {
                records.add(type);
            } else {
                todo.addAll(List.of(type.getPermittedSubclasses()));
            }
        }
        assertEquals(21, records.size(), records.toString()); // a new message: add it to everyMessage()
        assertEquals(records, covered);
    }

    @Test
    void eachSideReadsOnlyWhatTheOtherSends() throws Exception {
        for (ControlMessage message : everyMessage()) {
            String line = new String(ControlCodec.encode(message), StandardCharsets.UTF_8).strip();
            if (message instanceof ControlMessage.ToRuntime) {
                assertEquals(message, ControlCodec.decodeFromChild(line));
            } else {
                assertThrows(MalformedMessageException.class, () -> ControlCodec.decodeFromChild(line), line);
            }
            if (message instanceof ControlMessage.ToChild) {
                assertEquals(message, ControlCodec.decodeFromRuntime(line));
            } else {
                assertThrows(MalformedMessageException.class, () -> ControlCodec.decodeFromRuntime(line), line);
            }
        }
    }

    @Test
    void anAppMessageKeepsItsBytes() throws Exception {
        byte[] bytes = {0, 1, 2, (byte) 255, '\n', ' '};
        String line = new String(ControlCodec.encode(AppMessage.of(dev.forkless.api.Message.of(bytes), true)),
                StandardCharsets.UTF_8).strip();
        AppMessage back = assertInstanceOf(AppMessage.class, ControlCodec.decode(line));
        assertTrue(back.relay());
        assertEquals(List.of(0, 1, 2, 255, 10, 32), toList(back.message().bytes()));
        assertEquals("hé", assertInstanceOf(AppMessage.class, ControlCodec.decode("msg t h%C3%A9 0")).message().text());
    }

    private static List<Integer> toList(byte[] bytes) {
        List<Integer> list = new ArrayList<>();
        for (byte b : bytes) {
            list.add(b & 0xff);
        }
        return list;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "   ", "what is this", "HELLO token 1",
            "hello", "hello token", "hello token notapid", "hello token 1 extra",
            "stats 1 2 3", "stats 1 2 3 x", "stats 99999999999 2 3 4", "exited", "exited 1.5",
            "bind 1 127.0.0.1 port 50 %", "bind 1 127.0.0.1 80 50 SO_RCVBUF", "bind 1 127.0.0.1 80 50 =1",
            "put 1 k 2 v", "put 1 k", "state k yes v", "putdone 1", "unload soon",
            "msg x payload 0", "msg b not*base64 0", "msg t text maybe", "msg t text",
            "snapshot k", "snapshot a 1 b", "crashed %zz trace", "badapp %E"})
    void aLineThatIsNoMessageIsOneClearError(String line) {
        MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> ControlCodec.decode(line));
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
    }

    @Test
    void theErrorSaysWhatIsWrongAndWhere() {
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> ControlCodec.decodeFromChild("stats 1 two 3 4"));
        assertTrue(e.getMessage().contains("stats") && e.getMessage().contains("'two' is not a number"), e.getMessage());
        String huge = "x".repeat(100_000);
        e = assertThrows(MalformedMessageException.class, () -> ControlCodec.decode(huge));
        assertTrue(e.getMessage().length() < 300, "abbreviated");
    }

    @Test
    void linesAreSplitAcrossChunks() {
        ControlCodec.LineSplitter splitter = new ControlCodec.LineSplitter();
        List<String> lines = new ArrayList<>();
        byte[] snowman = "☃".getBytes(StandardCharsets.UTF_8);
        splitter.feed("ready\nsta".getBytes(StandardCharsets.UTF_8), lines::add);
        splitter.feed(("ts 1 2 3 4\nbadapp " + "").getBytes(StandardCharsets.UTF_8), lines::add);
        splitter.feed(new byte[] {snowman[0]}, lines::add);
        splitter.feed(new byte[] {snowman[1], snowman[2], '\n'}, lines::add);
        assertEquals(List.of("ready", "stats 1 2 3 4", "badapp ☃"), lines);
    }
}
