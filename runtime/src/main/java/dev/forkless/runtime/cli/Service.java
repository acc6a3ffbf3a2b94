package dev.forkless.runtime.cli;

import dev.forkless.runtime.listen.Handover;

import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a service manager sees of a runtime: its PID file ({@code --pid-file}) and its {@code sd_notify}
 * messages ({@link SystemdNotify}), through start, reloads, a handover to a new runtime JVM
 * ({@code forkless upgrade}) and the end. The runtime that serves owns both: a new runtime takes them over
 * before the old one exits, and the old one then neither says {@code STOPPING=1} nor removes the file.
 */
final class Service {

    /** The PID files: {@code --pid-file}, and the one systemd tracks ({@code $PIDFILE}); none, one or both. */
    private final java.util.List<PidFile> pidFiles;
    /** Whether systemd follows the service's main process through a PID file ({@code PIDFile=}). */
    private final boolean trackedByPidFile;
    /** The PID file of {@code --pid-file}, or null. */
    private final PidFile given;
    private final SystemdNotify notify;
    private final PrintStream err;
    private final AtomicBoolean handedOver = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    /**
     * Whether this runtime is the one the service manager tracks: from its start, or, for one that takes
     * over, once it serves. Until then it tells systemd nothing: a new runtime that fails and stops must
     * not say STOPPING=1 for the service the old one still serves.
     */
    private final AtomicBoolean owner = new AtomicBoolean();

    /**
     * @param pidFile the PID file, or null for none
     * @param notify  systemd's notification socket (a no-op without one)
     * @param err     where warnings go
     */
    Service(PidFile pidFile, SystemdNotify notify, PrintStream err) {
        this(pidFile, null, notify, err);
    }

    /**
     * @param pidFile        the PID file of {@code --pid-file}, or null for none
     * @param trackedPidFile the PID file systemd tracks ({@code $PIDFILE}), or null for none
     * @param notify         systemd's notification socket (a no-op without one)
     * @param err            where warnings go
     */
    Service(PidFile pidFile, PidFile trackedPidFile, SystemdNotify notify, PrintStream err) {
        java.util.List<PidFile> files = new java.util.ArrayList<>();
        if (pidFile != null) {
            files.add(pidFile);
        }
        if (trackedPidFile != null && !files.contains(trackedPidFile)) {
            files.add(trackedPidFile);
        }
        this.pidFiles = java.util.List.copyOf(files);
        this.trackedByPidFile = trackedPidFile != null;
        this.given = pidFile;
        this.notify = notify;
        this.err = err;
    }

    /**
     * The runtime starts (not one that takes over: it writes the PID file once it serves).
     *
     * @throws IllegalArgumentException {@code --pid-file PATH: why}, when the file cannot be written
     */
    void starting() {
        owner.set(true);
        for (PidFile pidFile : pidFiles) {
            try {
                pidFile.write();
            } catch (IOException e) {
                throw new IllegalArgumentException(option(pidFile) + pidFile.path() + ": cannot write it ("
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")");
            }
        }
    }

    private String option(PidFile pidFile) {
        return pidFile.equals(given) ? "--pid-file " : "$PIDFILE ";
    }

    /** The runtime this one took over from: told once this one serves, it drains and exits. */
    @FunctionalInterface
    interface OldRuntime {
        /** @throws IOException when it cannot be told */
        void ready() throws IOException;
    }

    /**
     * The runtime serves. One that took over writes the PID file, tells systemd it is the main process
     * now, then tells the old runtime to drain and exit: in that order, so that the service never looks
     * gone.
     *
     * @param status what systemd shows ({@code STATUS=})
     * @param taken  the link to the runtime this one took over from, or null
     */
    void serving(String status, Handover.Taken taken) {
        serving(status, taken == null ? null : (OldRuntime) taken::ready);
    }

    /**
     * As {@link #serving(String, Handover.Taken)}.
     *
     * @param status what systemd shows ({@code STATUS=})
     * @param taken  the runtime this one took over from, or null
     */
    void serving(String status, OldRuntime taken) {
        if (taken == null) {
            owner.set(true);
            notify.ready(status);
            return;
        }
        owner.set(true);
        boolean written = true;
        for (PidFile pidFile : pidFiles) {
            try {
                pidFile.write();
            } catch (IOException e) {
                written = false;
                err.println("forkless: warning: " + option(pidFile) + pidFile.path() + ": cannot write it (" + e.getMessage() + ")");
            }
        }
        if (trackedByPidFile && written) {
            notify.tookOverTrackedByPidFile(status); // systemd follows the PID file at the old runtime's exit
        } else {
            notify.tookOver(status);
        }
        try {
            taken.ready();
        } catch (IOException e) {
            err.println("forkless: warning: cannot tell the old runtime that this one serves: " + e.getMessage());
        }
    }

    /** A reload (SIGHUP) begins. */
    void reloading() {
        if (owner.get()) {
            notify.reloading();
        }
    }

    /** The reload ended, done or not: the runtime serves. */
    void reloaded(String status) {
        if (owner.get()) {
            notify.ready(status);
        }
    }

    /** A new runtime serves on this one's sockets: this one drains without telling the service manager. */
    void handedOver() {
        handedOver.set(true);
    }

    /** @return whether this runtime handed over to a new one */
    boolean isHandedOver() {
        return handedOver.get();
    }

    /** The runtime stops: {@code STOPPING=1}, once, unless it handed over. */
    void stopping() {
        if (owner.get() && !handedOver.get() && !stopping.getAndSet(true)) {
            notify.stopping();
        }
    }

    /** The runtime ends: its PID file goes, if it still holds this pid. */
    void exited() {
        stopping();
        pidFiles.forEach(PidFile::removeIfOwn);
    }
}
