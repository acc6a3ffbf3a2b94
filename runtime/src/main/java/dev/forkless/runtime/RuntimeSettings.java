package dev.forkless.runtime;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a runtime was started with that a reload with new settings ({@code reload --update-env})
 * compares: the settings ({@link ForklessConfig}), the app's arguments, and the settings that live outside
 * the runtime's core (the app's jar, the admin API's address and token), which only a restart changes.
 *
 * @param config the settings
 * @param args   the app's arguments
 * @param fixed  settings outside {@link ForklessConfig} by their config file key ({@code app}, {@code admin},
 *               {@code adminToken}, ...), as text: a change of one needs a restart
 */
public record RuntimeSettings(ForklessConfig config, List<String> args, Map<String, String> fixed) {

    public RuntimeSettings {
        Objects.requireNonNull(config, "config");
        args = List.copyOf(args);
        fixed = Map.copyOf(fixed);
    }
}
