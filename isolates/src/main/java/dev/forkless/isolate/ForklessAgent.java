package dev.forkless.isolate;

import java.lang.instrument.Instrumentation;
import java.nio.channels.spi.SelectorProvider;
import java.util.Map;
import java.util.Set;

/**
 * Forkless's Java agent: started by runtime.jar's own manifest ({@code Launcher-Agent-Class}, so
 * {@code java -jar runtime.jar} needs no flag), or with {@code -javaagent:runtime.jar}.
 *
 * <p>What it adds to what the isolate loader does by itself:
 * <ul>
 *   <li>the call-site rewriting reaches the classes of loaders an app makes below its isolate's loader
 *       (Spring Boot's launcher, Quarkus' runner, plugin loaders): {@link AgentTransformer};</li>
 *   <li>{@code Runtime.exit} and {@code Runtime.halt}, by any path (reflection, method handles, JDK
 *       code, a JDK pool thread), end only the copy they are called for;</li>
 *   <li>{@code URL.getURLStreamHandler} asks the calling copy first, so each copy has its own protocol
 *       handlers ({@link IsolateUrlHandlers});</li>
 *   <li>a listening channel the JDK opens for a copy is the copy's listener view
 *       ({@link ForklessSelectorProvider});</li>
 *   <li>JUL's {@code LogManager} loads the handlers a copy's logging configuration names through the
 *       copy's loader.</li>
 * </ul>
 */
public final class ForklessAgent {

    private static final System.Logger LOG = System.getLogger(ForklessAgent.class.getName());
    static final String SELECTOR_PROVIDER = "java.nio.channels.spi.SelectorProvider";

    private ForklessAgent() {
    }

    /**
     * Entry of {@code -javaagent:}.
     *
     * @param args            ignored
     * @param instrumentation the JVM's instrumentation
     */
    public static void premain(String args, Instrumentation instrumentation) {
        install(instrumentation);
    }

    /**
     * Entry of {@code Launcher-Agent-Class} ({@code java -jar runtime.jar}) and of a dynamic attach.
     *
     * @param args            ignored
     * @param instrumentation the JVM's instrumentation
     */
    public static void agentmain(String args, Instrumentation instrumentation) {
        install(instrumentation);
    }

    private static void install(Instrumentation instrumentation) {
        Module forkless = ForklessAgent.class.getModule();
        // the JDK's default selector provider, which ours delegates to; java.lang, where the bridge goes
        instrumentation.redefineModule(Object.class.getModule(), Set.of(),
                Map.of("sun.nio.ch", Set.of(forkless)), Map.of("java.lang", Set.of(forkless)), Set.of(), Map.of());
        // 1. the selector provider, before anything uses NIO (SelectorProvider reads the property once)
        installSelectorProvider();
        // 2. the bridge java.base calls, with its hooks
        try {
            JvmHooks.install();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.WARNING, "Forkless agent: cannot define its bridge in java.base; "
                    + "an exit by reflection may end the whole JVM: " + e);
            return;
        }
        // 3. the class file transformer, and the JDK methods that call the bridge
        AgentTransformer transformer = new AgentTransformer();
        instrumentation.addTransformer(transformer, true);
        try {
            instrumentation.retransformClasses(Runtime.class, java.net.URL.class, java.util.logging.LogManager.class);
        } catch (java.lang.instrument.UnmodifiableClassException | RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.WARNING, "Forkless agent: cannot rewrite Runtime.exit/halt and URL handlers; "
                    + "an exit by reflection may end the whole JVM: " + e);
        }
        if (transformer.failure() != null) {
            LOG.log(System.Logger.Level.WARNING, "Forkless agent: " + transformer.failure());
        }
    }

    private static void installSelectorProvider() {
        if (System.getProperty(SELECTOR_PROVIDER) != null) {
            LOG.log(System.Logger.Level.WARNING, "Forkless agent: " + SELECTOR_PROVIDER + " is set; listening "
                    + "channels the JDK opens for a copy (its HttpServer) will not be shared");
            return;
        }
        System.setProperty(SELECTOR_PROVIDER, ForklessSelectorProvider.class.getName());
        try {
            SelectorProvider provider = SelectorProvider.provider();
            if (!(provider instanceof ForklessSelectorProvider)) {
                LOG.log(System.Logger.Level.WARNING, "Forkless agent: NIO was used before the agent started ("
                        + provider.getClass().getName() + "); listening channels the JDK opens for a copy "
                        + "(its HttpServer) will not be shared");
            }
        } finally {
            // read once, at first use: the copies need not see it
            System.clearProperty(SELECTOR_PROVIDER);
        }
    }
}
