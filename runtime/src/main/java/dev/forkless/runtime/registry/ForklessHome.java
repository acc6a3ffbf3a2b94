package dev.forkless.runtime.registry;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * The user's Forkless folder: the admin token files, the registry of running runtimes, the cache of the
 * child agent jar. {@code ~/.forkless} unless the system property {@value #PROPERTY} or the environment
 * variable {@value #VARIABLE} names another (in that order): tests and several users' setups keep their
 * runtimes apart with it.
 *
 * @param folder the folder (it may not exist yet)
 */
public record ForklessHome(Path folder) {

    /** The system property that moves the folder. */
    public static final String PROPERTY = "forkless.home";

    /** The environment variable that moves the folder. */
    public static final String VARIABLE = "FORKLESS_HOME";

    /** @return this process's folder, from its system properties and environment */
    public static ForklessHome current() {
        return of(System.getProperties(), System.getenv());
    }

    /**
     * @param properties system properties ({@value #PROPERTY}, {@code user.home})
     * @param environment the environment ({@value #VARIABLE})
     * @return the folder they name
     */
    static ForklessHome of(Properties properties, Map<String, String> environment) {
        String property = properties.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) {
            return new ForklessHome(Path.of(property).toAbsolutePath());
        }
        String variable = environment.get(VARIABLE);
        if (variable != null && !variable.isBlank()) {
            return new ForklessHome(Path.of(variable).toAbsolutePath());
        }
        return new ForklessHome(Path.of(properties.getProperty("user.home"), ".forkless"));
    }

    /**
     * @param port an admin port
     * @return the file where the runtime with that admin port writes its token: {@code admin-PORT.token}
     */
    public Path tokenFile(int port) {
        return folder.resolve("admin-" + port + ".token");
    }

    /** @return the folder of the registry of running runtimes, {@code runtimes} */
    public Path runtimes() {
        return folder.resolve("runtimes");
    }

    /** @return the folder of files the runtime extracts once per version, {@code cache} */
    public Path cache() {
        return folder.resolve("cache");
    }
}
