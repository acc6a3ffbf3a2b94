package example.helidon;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import java.util.UUID;

/** A Helidon 4.1 SE app, as the Helidon SE quickstart of that version. {@code --port N} or env PORT. */
public final class Main {

    private static final String ID = UUID.randomUUID().toString();

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        Config config = Config.create();
        Config.global(config);
        WebServer server = WebServer.builder()
                .config(config.get("server"))
                .port(port(args))
                .routing(Main::routing)
                .build()
                .start();
        System.out.println("helidon-4.1 example listening on " + server.port());
    }

    static void routing(HttpRouting.Builder routing) {
        routing.get("/", (req, res) -> res.send("Hello from Helidon 4.1 SE\n"))
                .get("/who", (req, res) -> res.header("Content-Type", "application/json")
                        .send("{\"app\":\"helidon-4.1\",\"id\":\"" + ID + "\",\"pid\":" + ProcessHandle.current().pid() + "}"))
                .get("/crash", (req, res) -> {
                    res.send("crashing\n");
                    new Thread(() -> {
                        sleep(100);
                        throw new RuntimeException("crash");
                    }, "crasher").start();
                })
                .get("/exit", (req, res) -> {
                    Exits.exitSoon(req.query().first("how").orElse(null));
                    res.send("exiting\n");
                })
                .get("/slow", (req, res) -> {
                    sleep(req.query().first("ms").map(Long::parseLong).orElse(1000L));
                    res.send("slow\n");
                });
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
