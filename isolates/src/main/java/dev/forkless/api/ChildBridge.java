package dev.forkless.api;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Base64;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The API's way to the runtime in a child JVM of process mode, where the app runs as {@code java -jar}
 * would, without an isolate: the child agent ({@code dev.forkless.child.ChildApi}, on the system class
 * path) answers, through JDK types only, so any copy of these API classes finds it.
 */
final class ChildBridge {

    /** Whether this JVM is a child of the runtime: set by the agent before the app's {@code main}. */
    static final boolean ACTIVE = "process".equals(System.getProperty("forkless.worker.mode"))
            && System.getProperty("forkless.worker.id") != null;

    private static final Class<?> API = ACTIVE ? load() : null;

    private ChildBridge() {
    }

    private static Class<?> load() {
        try {
            return Class.forName("dev.forkless.child.ChildApi", true, ClassLoader.getSystemClassLoader());
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    static String id() {
        return System.getProperty("forkless.worker.id");
    }

    /** @return the instance number the child agent keeps (set again when a standby is promoted), or null */
    static String instance() {
        return System.getProperty("forkless.worker.instance");
    }

    private static Object call(String name, MethodType type, Object... args) {
        if (API == null) {
            return null;
        }
        try {
            MethodHandle handle = MethodHandles.publicLookup().findStatic(API, name, type);
            return handle.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void ready() {
        call("ready", MethodType.methodType(void.class));
    }

    static boolean send(Message message, boolean relay) {
        Object sent = call("send", MethodType.methodType(boolean.class, String.class, String.class, boolean.class),
                message.isText() ? "t" : "b",
                message.isText() ? message.text() : Base64.getEncoder().encodeToString(message.bytes()), relay);
        return Boolean.TRUE.equals(sent);
    }

    static void onMessage(Consumer<Message> handler) {
        BiConsumer<String, String> raw = (kind, payload) -> handler.accept(
                kind.equals("b") ? Message.of(Base64.getDecoder().decode(payload)) : Message.of(payload));
        call("onMessage", MethodType.methodType(void.class, BiConsumer.class), raw);
    }

    static String get(String key) {
        return (String) call("get", MethodType.methodType(String.class, String.class), key);
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> all() {
        Object all = call("all", MethodType.methodType(Map.class));
        return all == null ? Map.of() : (Map<String, String>) all;
    }

    static void put(String key, String value) {
        call("put", MethodType.methodType(void.class, String.class, String.class), key, value);
    }

    static void onChange(BiConsumer<String, String> listener) {
        call("onChange", MethodType.methodType(void.class, BiConsumer.class), listener);
    }
}
