package dev.forkless.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code forkless start APP}: starts again an app of a running runtime of several that {@code stop APP}
 * stopped, or whose copies all errored ({@code POST /api/start?app=APP}); its runtime is found as for
 * {@code stop APP}. {@code start} with a jar or a config file starts a runtime instead ({@link DetachedStart}):
 * the command line is this one's when it names one word that is an app's name and no file.
 */
@Command(name = "start", description = "Start again an app of a running runtime that stop APP stopped, or whose "
        + "copies all errored.")
final class StartApp extends ClientCommands.ForApp {

    /** The options this command takes, each with a value; any other option is the runtime's (a detached start). */
    private static final Set<String> OPTIONS = Set.of("--admin", "--token-file", "--timeout");

    StartApp(PrintStream out, PrintStream err) {
        super(out, err);
    }

    /**
     * @param args what follows {@code start}
     * @return whether they name a running runtime's app ({@code start APP [--admin URL]}), not a runtime to start
     */
    static boolean names(List<String> args) {
        String word = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.startsWith("-")) {
                String option = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                if (!OPTIONS.contains(option)) {
                    return false;
                }
                if (!arg.contains("=")) {
                    i++; // its value
                }
            } else if (word != null) {
                return false; // APP.jar ARGS: a runtime's command line
            } else {
                word = arg;
            }
        }
        return word != null && word.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}") && !word.endsWith(".jar")
                && !exists(word);
    }

    private static boolean exists(String word) {
        try {
            return Files.exists(Path.of(word));
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /** Runs {@code start APP ...} as the other client commands run; returns the exit code. */
    static int run(List<String> args, PrintStream out, PrintStream err) {
        CommandLine line = new CommandLine(new StartApp(out, err));
        line.setOut(new java.io.PrintWriter(out, true));
        line.setErr(new java.io.PrintWriter(err, true));
        line.setParameterExceptionHandler((e, argv) -> {
            err.println("forkless: " + dev.forkless.runtime.log.TerminalText.clean(String.valueOf(e.getMessage()), false)
                    + " (see --help)");
            return ClientCommands.USAGE;
        });
        return line.execute(args.toArray(String[]::new));
    }

    @Override
    int run(AdminClient client) throws AdminClient.Unreachable, IOException {
        AdminClient.Response response = client.post(forApp("/api/start"), target.operationTimeout());
        JsonNode body = response.body();
        if (response.status() == 409 && body != null && body.path("running").asBoolean()) {
            err.println("forkless: " + response.reason());
            return ClientCommands.REFUSED;
        }
        return report(client, response, "start " + app);
    }
}
