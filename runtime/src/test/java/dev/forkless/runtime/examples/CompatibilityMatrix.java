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
                new Entry(nettyEpoll, "isolate", new KnownFailure("asks for a Netty native transport",
                        "the app insists on epoll, whose socket would bypass the shared one; Netty runs on NIO in "
                                + "every copy, and an app that hard-codes epoll fails with a line that says so")),
                new Entry(nettyEpoll, "process", new KnownFailure("Native transport was explicit disabled",
                        "children run with io.netty.transport.noNative=true: an app that hard-codes epoll fails")),
                new Entry(jdkHttp, "isolate", new Serves(0, 0, 0, off + ": a filter")),
                new Entry(jdkHttp, "process", new Serves(0, 0, 0, off + ": a filter")));
    }
}
