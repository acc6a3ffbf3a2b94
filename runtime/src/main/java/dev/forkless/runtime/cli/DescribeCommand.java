package dev.forkless.runtime.cli;

import java.io.IOException;
import java.io.PrintStream;

import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code forkless describe APP}: everything about one app and its copies ({@code GET /api/app}), in
 * sections ({@link AppDescription}), or the raw JSON object with {@code --json}.
 */
@Command(name = "describe", description = "Show everything about one app and its copies: settings, "
        + "environment (secrets masked), logs, admin URL, uptime, reloads, restarts, and each copy.")
final class DescribeCommand extends ClientCommands.ForApp {

    @Option(names = "--json", description = "Print the JSON object of GET /api/app instead of the sections.")
    boolean json;

    DescribeCommand(PrintStream out, PrintStream err) {
        super(out, err);
    }

    @Override
    int run(AdminClient client) throws AdminClient.Unreachable, IOException {
        AdminClient.Response response = client.get(forApp("/api/app"));
        if (response.status() == 404) {
            err.println("forkless: the runtime at " + client.url() + " cannot describe its app (GET /api/app: an "
                    + "older version?)");
            return ClientCommands.REFUSED;
        }
        if (!response.ok() || response.body() == null || !response.body().isObject()) {
            err.println("forkless: " + client.url() + " did not describe its app: " + response.reason());
            return ClientCommands.REFUSED;
        }
        if (json) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(response.body()));
        } else {
            AppDescription.render(response.body(), client.url()).forEach(out::println);
        }
        return ClientCommands.DONE;
    }
}
