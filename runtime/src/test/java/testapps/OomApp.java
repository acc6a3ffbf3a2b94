package testapps;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A JDK {@code HttpServer} app whose request handler, on {@code GET /oom}, allocates 1 MiB blocks until
 * the heap runs out and catches the {@code OutOfMemoryError}, as a framework's request loop would
 * (Helidon, Netty and Tomcat catch {@code Throwable} and go on): it answers {@code 500 caught ...} and
 * keeps serving. {@code /oom?keep=true} keeps what it allocated in a static list (a leak that filled the
 * heap); without it the blocks are garbage once caught. {@code GET /} answers {@code hello COPY}, where
 * COPY is the copy's id ({@code Worker.id()}). Usage: {@code OomApp PORT HOST}.
 */
public final class OomApp {

    /** What {@code /oom?keep=true} keeps. */
    private static final List<byte[]> KEPT = new ArrayList<>();

    private OomApp() {
    }

    public static void main(String[] args) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(args[1], Integer.parseInt(args[0])), 0);
        ExecutorService executor = Executors.newFixedThreadPool(8);
        server.setExecutor(executor);
        server.createContext("/", OomApp::handle);
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop(0);
            executor.shutdownNow();
        }));
    }

    private static void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        boolean keep = "keep=true".equals(exchange.getRequestURI().getQuery());
        exchange.getRequestBody().readAllBytes();
        if (path.equals("/oom")) {
            String outcome;
            try {
                fill(keep ? KEPT : new ArrayList<>());
                outcome = "not reached";
            } catch (Throwable caught) { // as a framework's request loop does, a few frames up
                outcome = "caught " + caught;
            }
            reply(exchange, 500, outcome + "\n");
        } else {
            String hello;
            try {
                hello = "hello " + dev.forkless.api.Worker.id() + "\n";
            } catch (Throwable caught) { // a framework catches everything a request throws
                reply(exchange, 500, "failed\n");
                return;
            }
            reply(exchange, 200, hello);
        }
    }

    /** Allocates until the heap runs out; what it held is garbage once the error left this frame (unless kept). */
    private static void fill(List<byte[]> blocks) {
        while (true) {
            blocks.add(new byte[1 << 20]);
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
