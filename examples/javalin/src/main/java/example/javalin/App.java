package example.javalin;

import io.javalin.Javalin;
import java.util.UUID;

/** Javalin 7 on Jetty 12, as Javalin's hello world; shaded into one jar. */
public final class App {

    private static final String ID = UUID.randomUUID().toString();

    public static void main(String[] args) {
        int port = port(args);
        Javalin.create(config -> {
            config.routes.get("/", ctx -> ctx.result("Hello from Javalin\n"));
            config.routes.get("/who", ctx -> ctx.contentType("application/json")
                    .result("{\"app\":\"javalin\",\"id\":\"" + ID + "\",\"pid\":" + ProcessHandle.current().pid() + "}"));
            config.routes.get("/crash", ctx -> {
                ctx.result("crashing\n");
                new Thread(() -> {
                    sleep(100);
                    throw new RuntimeException("crash");
                }, "crasher").start();
            });
            config.routes.get("/exit", ctx -> {
                Exits.exitSoon(ctx.queryParam("how"));
                ctx.result("exiting\n");
            });
            config.routes.get("/slow", ctx -> {
                String ms = ctx.queryParam("ms");
                sleep(ms == null ? 1000 : Long.parseLong(ms));
                ctx.result("slow\n");
            });
        }).start(port);
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
