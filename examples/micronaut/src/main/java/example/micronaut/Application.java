package example.micronaut;

import io.micronaut.runtime.Micronaut;
import java.util.Map;

/** Micronaut 4 on its Netty server, as Micronaut Launch's application. {@code --port N} or env PORT. */
public class Application {

    public static void main(String[] args) {
        Micronaut.build(args)
                .properties(Map.of("micronaut.server.port", port(args)))
                .start();
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
