package dev.forkless.runtime.child;

import dev.forkless.api.Worker;
import dev.forkless.isolate.AppJar;
import dev.forkless.isolate.BadAppException;
import dev.forkless.isolate.Isolate;
import dev.forkless.isolate.UncaughtExceptionDispatcher;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The main class of a child JVM in process mode: runs ONE copy of the app as an {@link Isolate} of mode
 * {@link Worker.Mode#PROCESS}, so the same call-site rewriting (exit, shutdown hooks, listening sockets)
 * works as in isolate mode, and talks to the runtime over the control channel. Started by the runtime,
 * never by hand:
 *
 * <pre>
 * java [jvm args] -cp runtime.jar dev.forkless.runtime.child.ChildMain
 *     CONTROL_SOCKET TOKEN ID ACCEPTING DRAIN_MS MAIN_CLASS CLASS_PATH [app args...]
 * </pre>
 */
public final class ChildMain {

    private ChildMain() {
    }

    /**
     * Runs the child.
     *
     * @param args see the class comment
     */
    /** The system property that tells a child whether to insert loop checks, as the runtime does for isolates. */
    public static final String LOOP_CHECKS = "forkless.child.loopChecks";
    /** The system property that sets a child's inbox: {@code CAPACITY:block} or {@code CAPACITY:drop}. */
    public static final String INBOX = "forkless.child.inbox";

    public static void main(String[] args) {
        if (args.length < 7) {
            System.err.println("forkless: ChildMain is started by the runtime in process mode, not by hand");
            System.exit(2);
        }
        String control = args[0];
        String token = args[1];
        String id = args[2];
        boolean accepting = Boolean.parseBoolean(args[3]);
        long drainMillis = Long.parseLong(args[4]);
        String mainClass = args[5];
        List<Path> classPath = Arrays.stream(args[6].split(File.pathSeparator)).map(Path::of).toList();
        List<String> appArgs = new ArrayList<>(Arrays.asList(args).subList(7, args.length));

        ChildHost host;
        try {
            host = new ChildHost(Unix.connect(control), drainMillis);
        } catch (IOException e) {
            System.err.println("forkless: child " + id + " cannot reach the runtime: " + e.getMessage());
            Runtime.getRuntime().halt(1);
            return;
        }
        host.send(ControlMessage.of(ControlMessage.HELLO, token, ProcessHandle.current().pid()));
        host.installSignals();
        try {
            host.awaitSharedState();
        } catch (IOException e) {
            System.err.println("forkless: child " + id + ": " + e.getMessage());
            Runtime.getRuntime().halt(1);
            return;
        }
        String[] inbox = System.getProperty(INBOX, "1024:block").split(":");
        UncaughtExceptionDispatcher.install();
        dev.forkless.isolate.SerialFilters.install();
        Isolate isolate;
        try {
            isolate = Isolate.builder()
                    .id(id)
                    .mode(Worker.Mode.PROCESS)
                    .app(new AppJar(classPath.getFirst(), mainClass, classPath))
                    .host(host)
                    .accepting(accepting)
                    .inbox(Integer.parseInt(inbox[0]), !"drop".equals(inbox[1]))
                    .rewriter(new dev.forkless.isolate.CallSiteRewriter(Boolean.getBoolean(LOOP_CHECKS)))
                    .build();
            host.attach(isolate);
            isolate.start(appArgs);
        } catch (BadAppException e) {
            host.send(ControlMessage.of(ControlMessage.BAD_APP, e.getMessage()));
            host.exit(2);
            return;
        }
        host.send(ControlMessage.of(ControlMessage.STARTED));
    }
}
