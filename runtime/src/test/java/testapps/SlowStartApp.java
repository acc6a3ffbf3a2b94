package testapps;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo, started slowly on request: with {@code --slow-file F}, when F exists, {@code main} first waits
 * the milliseconds written in F (a copy that is slow to start, not failed), then runs the demo's
 * {@code main} with the other arguments. Lives in a jar built from the demo's fat jar
 * ({@code ReadinessIT}), so the demo's classes are found by name.
 */
public final class SlowStartApp {

    private SlowStartApp() {
    }

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>();
        Path slow = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--slow-file") && i + 1 < args.length) {
                slow = Path.of(args[++i]);
            } else {
                rest.add(args[i]);
            }
        }
        if (slow != null && Files.exists(slow)) {
            Thread.sleep(Long.parseLong(Files.readString(slow).trim()));
        }
        Class.forName("dev.forkless.demo.DemoMain", true, SlowStartApp.class.getClassLoader())
                .getMethod("main", String[].class).invoke(null, (Object) rest.toArray(String[]::new));
    }
}
