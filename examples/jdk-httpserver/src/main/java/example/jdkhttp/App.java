package example.jdkhttp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.Executors;

/** The JDK's own HTTP server. Note: main returns right after server.start(); the server's threads serve. */
public final class App {

    private static final String ID = UUID.randomUUID().toString();

    public static void main(String[] args) throws IOException {
        int port = port(args);
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", App::handle);
        server.start();
        System.out.println("jdk-httpserver example listening on " + port);
    }

    private static void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getQuery();
        String body;
        switch (path) {
            case "/" -> body = "Hello from the JDK HttpServer\n";
            case "/who" -> body = "{\"app\":\"jdk-httpserver\",\"id\":\"" + ID + "\",\"pid\":"
                    + ProcessHandle.current().pid() + "}";
            case "/crash" -> {
                body = "crashing\n";
                crashSoon();
            }
            case "/exit" -> {
                body = "exiting\n";
                Exits.exitSoon(param(query, "how"));
            }
            case "/slow" -> {
                String ms = param(query, "ms");
                sleep(ms == null ? 1000 : Long.parseLong(ms));
                body = "slow\n";
            }
            default -> {
                reply(exchange, 404, "not found\n");
                return;
            }
        }
        reply(exchange, 200, body);
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    static void crashSoon() {
        new Thread(() -> {
            sleep(100);
            throw new RuntimeException("crash");
        }, "crasher").start();
    }

    static String param(String query, String name) {
        if (query != null) {
            for (String pair : query.split("&")) {
                if (pair.startsWith(name + "=")) {
                    return pair.substring(name.length() + 1);
                }
            }
        }
        return null;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static int port(String[] args) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--port")) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        String env = System.getenv("PORT");
        return env == null || env.isBlank() ? 8080 : Integer.parseInt(env);
    }
}
