package dev.forkless.runtime;

/**
 * Where a reload with new settings ({@code reload --update-env}) reads them again: the CLI re-reads its
 * command line and the config file it names.
 */
@FunctionalInterface
public interface SettingsSource {

    /**
     * @return the settings as they are now
     * @throws IllegalArgumentException with the one-line message the runtime gives at start, when the
     *                                  config file cannot be read or holds a bad value
     */
    RuntimeSettings read();
}
