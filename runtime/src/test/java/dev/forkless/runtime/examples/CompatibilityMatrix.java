package dev.forkless.runtime.examples;

import dev.forkless.runtime.examples.Expectation.KnownFailure;
import dev.forkless.runtime.examples.Expectation.Serves;

import java.util.List;

/**
 * docs/compatibility.md as code: for each example app and mode, whether it serves (and how many requests
 * may fail per crash, exit and reload) or fails in a known way. Flip an entry when a fix lands: a known
 * failure that starts to serve fails {@link ExamplesIT} until its entry says {@link Serves}.
 */
final class CompatibilityMatrix {

    /** One entry: an app in a mode. */
    record Entry(ExampleApp app, String mode, Expectation expected) {

        @Override
        public String toString() {
            return app.name() + ", " + mode + " mode";
        }
    }

    private CompatibilityMatrix() {
    }

    static List<Entry> entries() {
        ExampleApp springTomcat = ExampleApp.example("spring-boot-tomcat",
                "spring-boot-tomcat/target/example-spring-boot-tomcat.jar");
        ExampleApp springWebflux = ExampleApp.example("spring-boot-webflux",
                "spring-boot-webflux/target/example-spring-boot-webflux.jar");
        ExampleApp vertx = ExampleApp.example("vertx", "vertx/target/example-vertx.jar");
        ExampleApp micronaut = ExampleApp.example("micronaut", "micronaut/target/example-micronaut.jar");
        ExampleApp quarkus = ExampleApp.example("quarkus", "quarkus/target/quarkus-app/quarkus-run.jar");
        ExampleApp javalin = ExampleApp.example("javalin", "javalin/target/example-javalin.jar");
        ExampleApp undertow = ExampleApp.example("undertow", "undertow/target/example-undertow.jar");
        ExampleApp nettyNio = ExampleApp.example("netty-nio", "netty/target/example-netty.jar");
        ExampleApp nettyEpoll = ExampleApp.example("netty-epoll", "netty/target/example-netty.jar", "--epoll");
        ExampleApp nettyIoUring = ExampleApp.example("netty-io-uring", "netty/target/example-netty.jar", "--io-uring");
        ExampleApp jdkHttp = ExampleApp.example("jdk-httpserver", "jdk-httpserver/target/example-jdk-httpserver.jar");
        ExampleApp helidon41 = ExampleApp.example("helidon-4.1", "helidon-4.1/target/example-helidon-4.1.jar");
        ExampleApp helidon45 = ExampleApp.demo();
        String off = "keep-alive off in the draining copy's server (KeepAliveOff): each connection ends after its "
                + "next response, which says Connection: close";
        return List.of(
                new Entry(helidon45, "isolate", new Serves(0, 0, 0, "drain adapter: 0 failed requests")),
                new Entry(helidon45, "process", new Serves(0, 0, 0, "drain adapter: 0 failed requests")),
                new Entry(helidon41, "isolate", new Serves(0, 0, 0,
                        "drain adapter linked against the app's own Helidon 4.1")),
                new Entry(helidon41, "process", new Serves(0, 0, 0,
                        "drain adapter linked against the app's own Helidon 4.1; its new ServerSocket is rewritten "
                                + "by the child agent to the copy's listener view")),
                new Entry(springTomcat, "isolate", new Serves(0, 0, 0, off + ": Tomcat's maxKeepAliveRequests = 1")),
                new Entry(springTomcat, "process", new Serves(0, 0, 0, off + ": Tomcat's maxKeepAliveRequests = 1")),
                new Entry(springWebflux, "isolate", new Serves(0, 0, 0, off + ": Reactor Netty")),
                new Entry(springWebflux, "process", new Serves(0, 0, 0, off + ": Reactor Netty")),
                new Entry(vertx, "isolate", new Serves(0, 0, 0, off + ": Netty")),
                new Entry(vertx, "process", new Serves(0, 0, 0, off + ": Netty")),
                new Entry(micronaut, "isolate", new Serves(0, 0, 0, off + ": Netty")),
                new Entry(micronaut, "process", new Serves(0, 0, 0, off + ": Netty")),
                new Entry(quarkus, "isolate", new Serves(0, 0, 0, off + ": Netty (Vert.x)")),
                new Entry(quarkus, "process", new Serves(0, 0, 0, off + ": Netty (Vert.x)")),
                new Entry(javalin, "isolate", new Serves(0, 0, 0, off + ": Jetty's persistentConnectionsEnabled = false")),
                new Entry(javalin, "process", new Serves(0, 0, 0, off + ": Jetty's persistentConnectionsEnabled = false")),
                new Entry(undertow, "isolate", new Serves(0, 0, 0, off + ": its connections' root handler marks each exchange not persistent")),
                new Entry(undertow, "process", new Serves(0, 0, 0, off + ": its connections' root handler marks each exchange not persistent")),
                new Entry(nettyNio, "isolate", new Serves(0, 0, 0, off + ": Netty")),
                new Entry(nettyNio, "process", new Serves(0, 0, 0, off + ": Netty")),
                new Entry(nettyEpoll, "isolate", new Serves(0, 0, 0, off + ": Netty; its epoll call sites run on NIO "
                        + "(NettyNativeToNio), said once in the log")),
                new Entry(nettyEpoll, "process", new Serves(0, 0, 0, off + ": Netty; its epoll call sites run on NIO "
                        + "(NettyNativeToNio), said once in the log")),
                new Entry(nettyIoUring, "isolate", new Serves(0, 0, 0, off + ": Netty; its io_uring call sites run on "
                        + "NIO (NettyNativeToNio), said once in the log")),
                new Entry(nettyIoUring, "process", new Serves(0, 0, 0, off + ": Netty; its io_uring call sites run on "
                        + "NIO (NettyNativeToNio), said once in the log")),
                new Entry(jdkHttp, "isolate", new Serves(0, 0, 0, off + ": a filter")),
                new Entry(jdkHttp, "process", new Serves(0, 0, 0, off + ": a filter")));
    }

    /**
     * The ways out of {@code /exit?how=...} that {@link ExamplesIT} takes after the direct exit under load. In
     * isolate mode every path: keeping an exit to its copy is the runtime's work there (call sites rewritten in
     * every class the copy's loaders define, {@code Runtime.exit/halt} patched for the paths with no call site).
     * In process mode a child's exit ends its own JVM whatever the path, and the child's hook sits in
     * {@code Runtime.exit} and {@code Runtime.halt} themselves, which every path reaches: halt (no shutdown
     * hooks) is the one path besides exit that differs there; each more path costs a child JVM's start.
     */
    static List<String> exitPaths(String mode) {
        return mode.equals("isolate") ? List.of("reflect", "handle", "halt", "pool", "loader") : List.of("halt");
    }

    /**
     * Threads the unloaded copies of a row still leave running ({@code leftoverThreads} in their
     * {@code event=unloaded} lines).
     *
     * @param onlyAfterHalt only the copy that halted leaves them (its shutdown hooks did not run); else every
     *                      or any copy may
     * @param which         which threads, and why
     */
    record ThreadsLeft(boolean onlyAfterHalt, String which) {
    }

    /** @return the threads the row's unloaded copies leave, or {@code null} where none may */
    static ThreadsLeft leavesThreads(Entry entry) {
        ThreadsLeft haltedHelidon = new ThreadsLeft(true, "after halt (no shutdown hooks, so Helidon does not stop "
                + "its server) the listener thread server-@default-listener stays: closing the copy's listener view ends "
                + "its accept, and Helidon's listener then waits in ServerListener.suspend on an uninterruptible "
                + "CompletableFuture.join that the halted copy's threads never complete");
        return switch (entry.app().name() + ":" + entry.mode()) {
            case "helidon-4.5-demo:isolate", "helidon-4.1:isolate" -> haltedHelidon;
            case "quarkus:isolate" -> new ThreadsLeft(true, "after halt, Quarkus' main thread isolate-N-main stays "
                    + "(it waits for the shutdown its hook would have signalled)");
            default -> null;
        };
    }
}
