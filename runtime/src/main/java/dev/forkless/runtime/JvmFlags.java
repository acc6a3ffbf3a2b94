package dev.forkless.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options the runtime needs, in one place: the runtime JVM's (runtime.jar's manifest gives them to
 * {@code java -jar}; a JVM started with {@code -cp}, or a test JVM, takes them as {@link #runtime()}), a
 * child JVM's in process mode ({@link #child()}), and a handed-over runtime JVM's ({@link #handover()}).
 * Files that must repeat them, runtime.jar's manifest in runtime/pom.xml and the test JVMs' argLine in
 * pom.xml, are held to this class by a test (JvmFlagsTest).
 */
public final class JvmFlags {

    /**
     * Packages opened to the runtime (as {@code module/package}): the isolate cleaner clears the JDK's
     * caches of an unloaded copy (docs/decisions.md), a draining copy's server is told to end its
     * keep-alive connections (KeepAliveOff: it finds them through their selection keys), an unloaded copy's
     * thread pools are shut down (their idle workers ignore interrupts).
     */
    public static final List<String> OPENS = List.of("java.base/java.util", "java.base/java.util.concurrent", "java.base/java.lang",
            "java.base/java.lang.invoke", "java.base/java.lang.runtime", "java.base/java.nio.channels.spi",
            "java.logging/java.util.logging", "jdk.httpserver/sun.net.httpserver");

    /** Packages exported to the runtime: process mode reads a socket channel's descriptor. */
    public static final List<String> EXPORTS = List.of("java.base/sun.nio.ch");

    /** Who may call native code: the runtime, and a child's agent, pass descriptors through java.lang.foreign. */
    public static final String NATIVE_ACCESS = "ALL-UNNAMED";

    /**
     * Packages a handed-over runtime opens besides the manifest's: it wraps the listening sockets it
     * receives in the JDK's own channel class ({@code child.Unix.listeningChannel}).
     */
    public static final List<String> HANDOVER_OPENS = List.of("java.base/sun.nio.ch", "java.base/java.io");

    private JvmFlags() {
    }

    /** @return the runtime JVM's options on a command line: what runtime.jar's manifest says */
    public static List<String> runtime() {
        List<String> flags = new ArrayList<>();
        OPENS.forEach(p -> flags.add("--add-opens=" + p + "=ALL-UNNAMED"));
        EXPORTS.forEach(p -> flags.add("--add-exports=" + p + "=ALL-UNNAMED"));
        flags.add("--enable-native-access=" + NATIVE_ACCESS);
        return List.copyOf(flags);
    }

    /** @return a handed-over runtime's options besides runtime.jar's manifest (it starts with {@code -jar}) */
    public static List<String> handover() {
        return HANDOVER_OPENS.stream().map(p -> "--add-opens=" + p + "=ALL-UNNAMED").toList();
    }

    /**
     * A child JVM's options that come before the user's {@code --jvm-arg}s, so that the user may turn them off:
     * a child whose heap ran out exits (status 3) and its slot is restarted, even when the app would catch
     * the error and go on broken.
     */
    public static List<String> childDefaults() {
        return List.of("-XX:+ExitOnOutOfMemoryError");
    }

    /** @return a child JVM's options in process mode: its agent passes descriptors through java.lang.foreign */
    public static List<String> child() {
        return List.of("--enable-native-access=" + NATIVE_ACCESS);
    }
}
