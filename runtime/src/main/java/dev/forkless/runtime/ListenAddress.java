package dev.forkless.runtime;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where the app says it listens, as far as the runtime can tell from its arguments and environment: the
 * usual {@code --port N}, {@code --port=N}, {@code --host H}, {@code --server.port=N} arguments and the
 * {@code PORT}, {@code HOST}, {@code SERVER_PORT} variables. The runtime's listening sockets stay open
 * while it runs ({@code SharedListeners}), so copies told to listen elsewhere would leave the old port
 * open with nobody accepting: a change of these needs a restart.
 */
final class ListenAddress {

    /** The variables that name the app's port or host. */
    static final Set<String> VARIABLES = Set.of("PORT", "HOST", "SERVER_PORT", "SERVER_HOST");
    private static final Set<String> OPTIONS = Set.of("--port", "--host", "--server.port", "--server.address",
            "-Dserver.port", "-Dserver.address");

    private ListenAddress() {
    }

    /** @return the port and host options in {@code args}, by option */
    static Map<String, String> inArgs(List<String> args) {
        Map<String, String> found = new TreeMap<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            int eq = arg.indexOf('=');
            if (eq > 0 && OPTIONS.contains(arg.substring(0, eq))) {
                found.put(arg.substring(0, eq), arg.substring(eq + 1));
            } else if (OPTIONS.contains(arg) && i + 1 < args.size()) {
                found.put(arg, args.get(++i));
            }
        }
        return found;
    }

    /** @return the port and host variables in {@code environment} */
    static Map<String, String> inEnvironment(Map<String, String> environment) {
        Map<String, String> found = new TreeMap<>();
        environment.forEach((k, v) -> {
            if (VARIABLES.contains(k)) {
                found.put(k, v);
            }
        });
        return found;
    }
}
