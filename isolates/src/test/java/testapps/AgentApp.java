package testapps;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetSocketAddress;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * What the agent must contain, one case per run: args are the report file, the case, and its argument.
 * Every exit below is one the isolate loader's own rewriting cannot see: no direct call site.
 */
public class AgentApp {

    public static void main(String[] args) throws Throwable {
        Path report = Path.of(args[0]);
        String arg = args.length > 2 ? args[2] : "";
        switch (args[1]) {
            case "reflect" -> Runtime.class.getMethod("exit", int.class).invoke(Runtime.getRuntime(), 3);
            case "handle" -> {
                MethodHandle exit = MethodHandles.publicLookup()
                        .findVirtual(Runtime.class, "exit", MethodType.methodType(void.class, int.class));
                exit.invoke(Runtime.getRuntime(), 4);
            }
            case "halt" -> Runtime.class.getMethod("halt", int.class).invoke(Runtime.getRuntime(), 5);
            case "pool" -> {
                // a JDK pool thread, outside the copy's thread group, exits for the copy
                CompletableFuture.runAsync(() -> reflectExit(6)).join();
            }
            case "plugin" -> {
                System.setProperty("agentapp.copy", arg);
                write(report, "appSystemLoaderIsApps=" + (ClassLoader.getSystemClassLoader() == AgentApp.class.getClassLoader()));
                // a loader the app makes below its own, as Spring Boot's launcher does
                try (URLClassLoader plugins = new URLClassLoader(new URL[]{Path.of(args[3]).toUri().toURL()},
                        AgentApp.class.getClassLoader())) {
                    Class<?> plugin = plugins.loadClass("testplugin.Plugin");
                    plugin.getMethod("run", Path.class, ClassLoader.class).invoke(null, report, AgentApp.class.getClassLoader());
                }
            }
            case "protocol" -> {
                // as Spring Boot's launcher registers nested: (Handlers.register)
                System.setProperty("java.protocol.handler.pkgs", "testapps.proto");
                try {
                    URL.setURLStreamHandlerFactory(null);
                } catch (Error ignored) {
                    // as Spring Boot: only a reset
                }
                try (InputStream in = new URL("forkless:copy").openStream()) {
                    write(report, "opened=" + new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
                new CountDownLatch(1).await(); // stays up while the other copy tries
            }
            case "bridge" -> {
                // as Spring Boot with jul-to-slf4j: a handler of a loader below the copy's, on the JVM's root
                // logger, left there (the copy's shutdown never removes it)
                URLClassLoader launched = new URLClassLoader(new URL[]{Path.of(arg).toUri().toURL()},
                        AgentApp.class.getClassLoader());
                java.util.logging.Handler bridge = (java.util.logging.Handler) launched.loadClass("testplugin.BridgeHandler")
                        .getConstructor().newInstance();
                java.util.logging.Logger.getLogger("").addHandler(bridge);
                java.util.logging.Logger.getLogger("agentapp.bridge").info("installed");
                write(report, "installed");
                new CountDownLatch(1).await();
            }
            case "log" -> {
                // logs through the JVM's root logger once the file arg names exists
                Path go = Path.of(arg);
                while (!Files.exists(go)) {
                    Thread.sleep(10);
                }
                try {
                    for (int i = 0; i < 20; i++) {
                        java.util.logging.Logger.getLogger("agentapp.log").info("record " + i);
                    }
                    write(report, "logged");
                } catch (Throwable t) {
                    write(report, "failed: " + t);
                }
            }
            case "wait" -> {
                write(report, "waiting");
                new CountDownLatch(1).await();
            }
            case "zipfs" -> {
                // a zip file system of the app's own jar, by URI (as Micronaut opens its jars)
                java.net.URI jar = java.net.URI.create("jar:" + AgentApp.class.getProtectionDomain().getCodeSource()
                        .getLocation().toURI() + "!/");
                var fs = java.nio.file.FileSystems.newFileSystem(jar, java.util.Map.of());
                write(report, "opened same=" + (java.nio.file.FileSystems.getFileSystem(jar) == fs));
                if (arg.equals("close")) {
                    fs.close();
                    write(report, "closed");
                } else {
                    Path go = Path.of(arg);
                    while (!Files.exists(go)) {
                        Thread.sleep(10);
                    }
                    Path entry = Path.of(java.net.URI.create(jar + "testapps/AgentApp.class"));
                    write(report, "read " + (Files.size(entry) > 0) + " same=" + (entry.getFileSystem() == fs));
                }
            }
            case "logging" -> {
                // a logging configuration naming the app's own handler, as Helidon's logging.properties does
                CopyHandler.report = report;
                String config = "agentapp.handlers = testapps.AgentApp$CopyHandler\nagentapp.useParentHandlers = false\n";
                java.util.logging.LogManager.getLogManager().readConfiguration(
                        new java.io.ByteArrayInputStream(config.getBytes(StandardCharsets.UTF_8)));
                java.util.logging.Logger.getLogger("agentapp").info("hello from " + arg);
            }
            case "noprotocol" -> {
                try {
                    new URL("forkless:copy");
                    write(report, "known");
                } catch (MalformedURLException e) {
                    write(report, "unknown: " + e.getMessage());
                }
            }
            case "httpserver" -> {
                try {
                    var server = com.sun.net.httpserver.HttpServer.create(
                            new InetSocketAddress("127.0.0.1", Integer.parseInt(arg)), 0);
                    server.createContext("/", exchange -> {
                        byte[] body = "copy".getBytes(StandardCharsets.UTF_8);
                        exchange.sendResponseHeaders(200, body.length);
                        exchange.getResponseBody().write(body);
                        exchange.close();
                    });
                    server.start();
                    write(report, "started");
                } catch (IOException | RuntimeException e) {
                    write(report, "failed: " + e);
                }
                new CountDownLatch(1).await();
            }
            default -> throw new IllegalArgumentException(args[1]);
        }
        write(report, "returned");
    }

    /** A log handler of the app's own, named by its logging configuration. */
    public static class CopyHandler extends java.util.logging.Handler {
        static volatile Path report;

        @Override
        public void publish(java.util.logging.LogRecord record) {
            write(report, "handled " + record.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    static void reflectExit(int status) {
        try {
            Runtime.class.getMethod("exit", int.class).invoke(Runtime.getRuntime(), status);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static void write(Path report, String line) {
        try {
            Files.writeString(report, line + "\n", java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
