package example.vertx;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.util.UUID;

/** A Vert.x 5 verticle serving HTTP, deployed from a plain main, shaded as Vert.x's guide does. */
public final class App extends VerticleBase {

    private static final String ID = UUID.randomUUID().toString();

    private final int port;

    App(int port) {
        this.port = port;
    }

    public static void main(String[] args) {
        int port = port(args);
        Vertx.vertx().deployVerticle(new App(port))
                .onSuccess(id -> System.out.println("vertx example listening on " + port))
                .onFailure(e -> {
                    e.printStackTrace();
                    System.exit(1);
                });
    }

    @Override
    public Future<?> start() {
        return vertx.createHttpServer().requestHandler(this::handle).listen(port);
    }

    private void handle(HttpServerRequest request) {
        switch (request.path()) {
            case "/" -> request.response().end("Hello from Vert.x\n");
            case "/who" -> request.response().putHeader("content-type", "application/json")
                    .end("{\"app\":\"vertx\",\"id\":\"" + ID + "\",\"pid\":" + ProcessHandle.current().pid() + "}");
            case "/crash" -> {
                request.response().end("crashing\n");
                new Thread(() -> {
                    sleep(100);
                    throw new RuntimeException("crash");
                }, "crasher").start();
            }
            case "/exit" -> {
                Exits.exitSoon(request.getParam("how"));
                request.response().end("exiting\n");
            }
            case "/slow" -> {
                String ms = request.getParam("ms");
                vertx.setTimer(ms == null ? 1000 : Long.parseLong(ms), t -> request.response().end("slow\n"));
            }
            default -> request.response().setStatusCode(404).end("not found\n");
        }
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
