package testapps;

import java.nio.file.Files;
import java.nio.file.Path;

/** Writes what it sees of its environment to a file (args: file), then exits 0. */
public class EnvApp {
    public static void main(String[] args) throws Exception {
        String seen = System.getenv("FORKLESS_TEST") + "," + System.getenv().get("FORKLESS_TEST") + ","
                + System.getenv().containsKey("PATH") + "," + System.getenv("PATH");
        Files.writeString(Path.of(args[0]), seen);
        System.exit(0);
    }
}
