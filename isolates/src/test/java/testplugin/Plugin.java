package testplugin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A class an app's own loader defines (not the isolate loader): only the agent rewrites it. */
public class Plugin {

    public static void run(Path report, ClassLoader appLoader) throws IOException {
        Files.writeString(report, "property=" + System.getProperty("agentapp.copy") + "\n"
                + "systemLoaderIsApps=" + (ClassLoader.getSystemClassLoader() == appLoader) + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.exit(7);
    }
}
