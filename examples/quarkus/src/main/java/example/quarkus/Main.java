package example.quarkus;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/** Takes {@code --port N} as the other examples do; Quarkus itself reads PORT (application.properties). */
@QuarkusMain
public class Main {

    public static void main(String... args) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--port")) {
                System.setProperty("quarkus.http.port", args[i + 1]);
            }
        }
        Quarkus.run(args);
    }
}
