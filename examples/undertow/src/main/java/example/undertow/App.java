package example.undertow;

import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.Deque;
import java.util.UUID;

/** Undertow core, one handler, as its guide's hello world. */
public final class App {

    private static final String ID = UUID.randomUUID().toString();

    public static void main(String[] args) {
        int port = port(args);
        Undertow server = Undertow.builder()
                .addHttpListener(port, "0.0.0.0")
                .setHandler(App::handle)
                .build();
        server.start();
        System.out.println("undertow example listening on " + port);
    }

    private static void handle(HttpServerExchange exchange) {
        String path = exchange.getRequestPath();
        if (path.equals("/slow") && exchange.isInIoThread()) {
            exchange.dispatch(App::handle);
            return;
        }
        String body;
        switch (path) {
            case "/" -> body = "Hello from Undertow\n";
            case "/who" -> body = "{\"app\":\"undertow\",\"id\":\"" + ID + "\",\"pid\":"
                    + ProcessHandle.current().pid() + "}";
            case "/crash" -> {
                body = "crashing\n";
                crashSoon();
            }
            case "/exit" -> {
                body = "exiting\n";
                Deque<String> how = exchange.getQueryParameters().get("how");
                Exits.exitSoon(how == null ? null : how.peekFirst());
            }
            case "/slow" -> {
                Deque<String> ms = exchange.getQueryParameters().get("ms");
                sleep(ms == null ? 1000 : Long.parseLong(ms.peekFirst()));
                body = "slow\n";
            }
            default -> {
                exchange.setStatusCode(404);
                body = "not found\n";
            }
        }
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain");
        exchange.getResponseSender().send(body);
    }

    static void crashSoon() {
        new Thread(() -> {
            sleep(100);
            throw new RuntimeException("crash");
        }, "crasher").start();
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
