package testapps;

import java.io.ObjectInputFilter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Does what an app may do to a whole JVM: sets a system property, a deserialization filter, a default
 * uncaught-exception handler, replaces System.out. Then writes what it sees to args[0].
 */
public class HazardApp {
    public static void main(String[] args) throws Exception {
        String id = args[1];
        System.setProperty("forkless.hazard", id);
        ObjectInputFilter.Config.setSerialFilter(ObjectInputFilter.Config.createFilter("!*"));
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> { });
        Path out = Path.of(args[0]);
        System.setOut(new PrintStream(Files.newOutputStream(Path.of(args[0] + ".out")), true));
        System.out.println("to my own stdout " + id);
        Files.writeString(out, "property=" + System.getProperty("forkless.hazard") + "\n"
                + "integer=" + Integer.getInteger("forkless.hazard.number", 7) + "\n"
                + "filter=" + (ObjectInputFilter.Config.getSerialFilter() != null) + "\n"
                + "handler=" + (Thread.getDefaultUncaughtExceptionHandler() != null) + "\n");
    }
}
