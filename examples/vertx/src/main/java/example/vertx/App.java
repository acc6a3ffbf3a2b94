package example.vertx;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import java.util.UUID;

/**
 * A Vert.x 5 verticle serving HTTP, deployed from a plain main, shaded as Vert.x's guide does.
 * {@code --instances N} (default 1) deploys N copies of the verticle, each on its own event loop, sharing
 * the port (Vert.x's own way to use several cores; bench/peers compares it). {@code --host H} (default all
 * interfaces) is the address it listens on.
 */
public final class App extends VerticleBase {

    private static final String ID = UUID.randomUUID().toString();

    private final int port;
    private final String host;

    App(int port, String host) {
        this.port = port;
        this.host = host;
    }

    public static void main(String[] args) {
        int port = port(args);
        int instances = instances(args);
        String host = host(args);
        Vertx.vertx().deployVerticle(() -> new App(port, host), new DeploymentOptions().setInstances(instances))
                .onSuccess(id -> System.out.println("vertx example listening on " + port
                        + (instances == 1 ? "" : " (" + instances + " instances)")))
                .onFailure(e -> {
                    e.printStackTrace();
                    System.exit(1);
                });
    }

    @Override
    public Future<?> start() {
        return vertx.createHttpServer().requestHandler(this::handle).listen(port, host);
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

    static String host(String[] args) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--host")) {
                return args[i + 1];
            }
        }
        return "0.0.0.0";
    }

    static int instances(String[] args) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--instances")) {
                int n;
                try {
                    n = Integer.parseInt(args[i + 1]);
                } catch (NumberFormatException e) {
                    n = 0;
                }
                if (n < 1) {
                    System.err.println("--instances must be a positive number, not " + args[i + 1]);
                    System.exit(2);
                }
                return n;
            }
        }
        return 1;
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
