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
        return List.of(
                new Entry(helidon45, "isolate", new Serves(0, 0, 0, "drain adapter: 0 failed requests")),
                new Entry(helidon45, "process", new Serves(0, 0, 0, "drain adapter: 0 failed requests")),
                new Entry(helidon41, "isolate", new Serves(0, 0, 0,
                        "drain adapter linked against the app's own Helidon 4.1")),
                new Entry(helidon41, "process", new Serves(0, 0, 0,
                        "drain adapter linked against the app's own Helidon 4.1")),
                new Entry(springTomcat, "isolate", new KnownFailure("unknown protocol: nested",
                        "Spring Boot's nested: URLs: MalformedURLException: unknown protocol: nested")),
                new Entry(springTomcat, "process", new KnownFailure("unknown protocol: nested",
                        "Spring Boot's nested: URLs: MalformedURLException: unknown protocol: nested")),
                new Entry(springWebflux, "isolate", new KnownFailure("unknown protocol: nested",
                        "Spring Boot's nested: URLs: MalformedURLException: unknown protocol: nested")),
                new Entry(springWebflux, "process", new KnownFailure("unknown protocol: nested",
                        "Spring Boot's nested: URLs: MalformedURLException: unknown protocol: nested")),
                new Entry(vertx, "isolate", new KnownFailure("IllegalSelectorException",
                        "the listener view cannot register with a JDK Selector")),
                new Entry(vertx, "process", new KnownFailure("IllegalSelectorException",
                        "the child loads the app through the isolate loader: the same listener view")),
                new Entry(micronaut, "isolate", new KnownFailure("IllegalSelectorException",
                        "the listener view cannot register with a JDK Selector")),
                new Entry(micronaut, "process", new KnownFailure("IllegalSelectorException",
                        "the child loads the app through the isolate loader: the same listener view")),
                new Entry(quarkus, "isolate", new KnownFailure("NoClassDefFoundError: io/quarkus/bootstrap/logging/InitialConfigurator",
                        "Quarkus' RunnerClassLoader has the system class loader as parent, not the copy's")),
                new Entry(quarkus, "process", new KnownFailure("NoClassDefFoundError: io/quarkus/bootstrap/logging/InitialConfigurator",
                        "Quarkus' RunnerClassLoader has the system class loader as parent, not the copy's")),
                new Entry(javalin, "isolate", new Serves(16, 16, 16,
                        "Jetty accepts in blocking mode; no drain: the stopping copy's connections are cut "
                                + "(observed 11 / 7 / 11 of 16)")),
                new Entry(javalin, "process", new Serves(16, 16, 16,
                        "no drain: the stopping child's connections are cut (observed 7 / 0 / 12 of 16)")),
                new Entry(undertow, "isolate", new KnownFailure("IllegalSelectorException",
                        "XNIO registers the listener view with a JDK Selector")),
                new Entry(undertow, "process", new KnownFailure("IllegalSelectorException",
                        "XNIO registers the listener view with a JDK Selector")),
                new Entry(nettyNio, "isolate", new KnownFailure("IllegalSelectorException",
                        "the listener view cannot register with a JDK Selector")),
                new Entry(nettyNio, "process", new KnownFailure("IllegalSelectorException",
                        "the child loads the app through the isolate loader: the same listener view")),
                new Entry(nettyEpoll, "isolate", new KnownFailure("bind(..) failed with error(-98): Address already in use",
                        "epoll binds the real port itself in the first copy; the others fail to bind")),
                new Entry(nettyEpoll, "process", new KnownFailure("bind(..) failed with error(-98): Address already in use",
                        "epoll binds the real port itself in the first copy; the others fail to bind")),
                new Entry(jdkHttp, "isolate", new KnownFailure("BindException",
                        "main returns after server.start(): the copy counts as exited while its server serves on")),
                new Entry(jdkHttp, "process", new KnownFailure("BindException",
                        "main returns after server.start(): the copy counts as exited")));
    }
}
