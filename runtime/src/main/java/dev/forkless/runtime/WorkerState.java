package dev.forkless.runtime;

import java.util.Locale;

/** Where a copy is in its life. */
public enum WorkerState {
    /** Loading and starting the app. */
    STARTING,
    /** Started and ready, kept warm, not accepting: takes over a slot at once when a copy fails. */
    STANDBY,
    /** Accepting and serving. */
    READY,
    /** Accepting no more; its open connections finish. */
    DRAINING,
    /** Unloaded. */
    STOPPED,
    /** Its slot failed too often in a row and is no longer restarted. */
    ERRORED;

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
