package testapps;

import java.nio.file.Files;
import java.nio.file.Path;

/** Registers a shutdown hook that writes a file, then exits (args: marker file, "exit" or "halt"). */
public class HookApp {
    public static void main(String[] args) throws Exception {
        Path marker = Path.of(args[0]);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.writeString(marker, "hook ran");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }));
        if (args[1].equals("halt")) {
            Runtime.getRuntime().halt(5);
        } else {
            Runtime.getRuntime().exit(4);
        }
    }
}
