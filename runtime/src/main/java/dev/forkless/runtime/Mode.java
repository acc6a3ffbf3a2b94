package dev.forkless.runtime;

import java.util.Locale;

/**
 * How a runtime runs its copies: the embedding API's own type (an app asks {@code dev.forkless.api.Worker.mode()},
 * a type of the app's side that the runtime maps to at the boundary). Its text, in the admin API's JSON, the
 * event log, the CLI's {@code --mode} and the config file, is the lower-case name: {@code isolate}, {@code process}.
 */
public enum Mode {
    /** Isolates in the runtime's JVM, each with its own class loader (the default). */
    ISOLATE,
    /** Child JVMs sharing the runtime's listening sockets. */
    PROCESS;

    /** @return {@code isolate} or {@code process}, as the command line, the logs and the JSON spell it */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }

}
