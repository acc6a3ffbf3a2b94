package dev.forkless.child;

import java.lang.instrument.Instrumentation;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * The agent of a child JVM in process mode ({@code -javaagent:forkless-child.jar=OPTIONS}). The child runs
 * the app as {@code java -jar app.jar} would: the app's own main class and class path, the system class
 * loader, no rewriting. Before the app's {@code main} the agent connects the control channel to the
 * runtime, waits for the shared state and sets the copy's identity; the app's listening sockets then come
 * from the runtime through {@link ChildSelectorProvider}, set on the child's command line.
 *
 * <p>OPTIONS: {@code CONTROL_SOCKET,TOKEN,ID,ACCEPTING,DRAIN_MS,MAIN_CLASS}, each URL-encoded. Started by
 * the runtime, never by hand. This jar holds only what the child needs: everything in it is on the
 * app's system class path.
 */
public final class ChildAgent {

    /** The system property holding the copy's id in a child ({@code dev.forkless.api.Worker#id()}). */
    public static final String ID_PROPERTY = "forkless.worker.id";
    /**
     * The system property holding the copy's instance number in a child ({@code dev.forkless.api.Worker#instance()}):
     * {@code FORKLESS_INSTANCE} at the start, set when a standby is promoted; absent in a standby.
     */
    public static final String INSTANCE_PROPERTY = "forkless.worker.instance";
    /** The system property holding the copy's mode in a child: {@code process}. */
    public static final String MODE_PROPERTY = "forkless.worker.mode";
    /** The system property that sets a child's inbox: {@code CAPACITY:block} or {@code CAPACITY:drop}. */
    public static final String INBOX_PROPERTY = "forkless.child.inbox";

    private ChildAgent() {
    }

    /**
     * Runs before the app's {@code main}.
     *
     * @param options see the class comment
     * @param inst    the instrumentation: opens {@code sun.nio.ch} to this agent, and lets {@link ExitHook} see exits
     */
    public static void premain(String options, Instrumentation inst) {
        String[] words = options == null ? new String[0] : options.split(",", -1);
        if (words.length < 6) {
            System.err.println("forkless: forkless-child.jar is started by the runtime in process mode, not by hand");
            Runtime.getRuntime().halt(2);
            return;
        }
        for (int i = 0; i < words.length; i++) {
            words[i] = URLDecoder.decode(words[i], StandardCharsets.UTF_8);
        }
        openJdkInternals(inst);
        ChildCopy copy = ChildCopy.connect(words[0], words[1], words[2], Boolean.parseBoolean(words[3]),
                Long.parseLong(words[4]));
        copy.warmUp(words.length > 6 ? words[6] : null);
        System.setProperty(ID_PROPERTY, words[2]);
        System.setProperty(MODE_PROPERTY, "process");
        String instance = System.getenv("FORKLESS_INSTANCE");
        if (instance != null) {
            System.setProperty(INSTANCE_PROPERTY, instance);
        }
        ExitHook.install(inst, copy::beforeExit);
        AdapterBridges.install(inst);
        ServerSocketRewriter.install(inst);
        NettyNativeRewriter.install(inst, words[2]);
        copy.start(words[5]);
    }

    /**
     * The listener needs the JDK's default selector provider and its channel class: opened to this
     * agent's module only, so the app's command line stays the user's.
     */
    private static void openJdkInternals(Instrumentation inst) {
        Module base = Object.class.getModule();
        Module me = ChildAgent.class.getModule();
        inst.redefineModule(base, Set.of(), Map.of("sun.nio.ch", Set.of(me)),
                Map.of("sun.nio.ch", Set.of(me), "java.io", Set.of(me), "java.lang", Set.of(me),
                        "java.nio.channels.spi", Set.of(me)), Set.of(), Map.of());
        // the drain turns keep-alive off in a JDK HttpServer (KeepAliveOff)
        ModuleLayer.boot().findModule("jdk.httpserver").ifPresent(http -> inst.redefineModule(http, Set.of(), Map.of(),
                Map.of("sun.net.httpserver", Set.of(me)), Set.of(), Map.of()));
    }
}
