package dev.forkless.runtime;

import java.util.Objects;

/**
 * How a reload with new settings ({@link Forkless#reload(String, RuntimeSettings)}) ended: what changed
 * (applied, or needing a restart) and the rolling reload's result.
 *
 * @param change what changed
 * @param result the reload's result (and the scale's, when the number of copies changed)
 */
public record SettingsReload(ConfigChange change, OperationResult result) {

    public SettingsReload {
        Objects.requireNonNull(change);
        Objects.requireNonNull(result);
    }
}
