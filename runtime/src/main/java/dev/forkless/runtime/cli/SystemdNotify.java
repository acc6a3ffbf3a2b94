package dev.forkless.runtime.cli;

import dev.forkless.runtime.child.Unix;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * systemd's notification protocol ({@code sd_notify}, for {@code Type=notify} units): when systemd sets
 * {@code NOTIFY_SOCKET}, the runtime tells it when it is ready, reloading and stopping, and, after
 * {@code forkless upgrade}, that the new runtime JVM is the service's main process ({@code MAINPID=}).
 * Each message is one datagram on that Unix socket (a path, or {@code @name} in the abstract namespace),
 * sent with {@link Unix#sendDatagram}. Without {@code NOTIFY_SOCKET} nothing is sent. A message that
 * cannot be sent costs one warning line (the first), never the runtime.
 */
final class SystemdNotify {

    /** The variable systemd sets for a {@code Type=notify} service. */
    static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";

    private final String socket;
    private final PrintStream err;
    private final AtomicBoolean warned = new AtomicBoolean();

    /**
     * @param socket the socket's address, or null (or empty) when not run by systemd
     * @param err    where the one warning goes
     */
    SystemdNotify(String socket, PrintStream err) {
        this.socket = socket == null || socket.isEmpty() ? null : socket;
        this.err = err;
    }

    /** @return the notifier of this process's {@code NOTIFY_SOCKET} */
    static SystemdNotify fromEnvironment(PrintStream err) {
        return new SystemdNotify(System.getenv(NOTIFY_SOCKET), err);
    }

    /** @return whether a service manager listens */
    boolean enabled() {
        return socket != null;
    }

    /** The runtime serves. */
    void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status));
    }

    /**
     * This runtime took over from the one systemd started (or from a previous upgrade): it is the main
     * process now, and it serves. Sent before the old runtime exits, so that systemd never sees the
     * service's main process gone.
     */
    void tookOver(String status) {
        send("MAINPID=" + ProcessHandle.current().pid() + "\nREADY=1\nSTATUS=" + oneLine(status));
    }

    /**
     * This runtime took over and wrote its pid to the PID file systemd tracks ({@code PIDFile=}): systemd
     * takes it as the main process when the old runtime exits, by then as its own child (the new runtime is
     * reparented to it), which it can wait for and stop. No {@code MAINPID=}: sent while the old runtime
     * still runs, it makes a main process that is not systemd's child, which systemd cannot wait for (on
     * stop it sends SIGTERM and at once SIGKILL).
     */
    void tookOverTrackedByPidFile(String status) {
        send("READY=1\nSTATUS=" + oneLine(status));
    }

    /**
     * @return the PID file systemd tracks for this service ({@code $PIDFILE}, which systemd 251 and later set
     *         from the unit's {@code PIDFile=} and the unit {@code startup systemd} prints sets itself), when
     *         run by systemd ({@code NOTIFY_SOCKET} set)
     */
    static java.util.Optional<java.nio.file.Path> trackedPidFile() {
        String socket = System.getenv(NOTIFY_SOCKET);
        String file = System.getenv("PIDFILE");
        if (socket == null || socket.isEmpty() || file == null || file.isBlank() || !file.startsWith("/")) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(java.nio.file.Path.of(file));
    }

    /** A reload (SIGHUP) begins; {@code MONOTONIC_USEC} as {@code Type=notify-reload} wants it. */
    void reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000 + "\nSTATUS=reloading");
    }

    /** The runtime stops (not after a handover: the new runtime serves on). */
    void stopping() {
        send("STOPPING=1\nSTATUS=stopping");
    }

    /** Sends one message of {@code KEY=value} lines; nothing without a socket. */
    void send(String message) {
        if (socket == null) {
            return;
        }
        if (!socket.startsWith("/") && !socket.startsWith("@")) {
            warnOnce(NOTIFY_SOCKET + "=" + socket + " is neither a path nor an abstract name (@name): systemd is "
                    + "not told this runtime's state");
            return;
        }
        try {
            Unix.sendDatagram(socket, message.getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException | LinkageError e) {
            warnOnce("cannot notify systemd at " + NOTIFY_SOCKET + "=" + socket + " (" + e.getMessage() + ")");
        }
    }

    private void warnOnce(String line) {
        if (!warned.getAndSet(true)) {
            err.println("forkless: warning: " + line);
        }
    }

    private static String oneLine(String text) {
        return text.replace('\n', ' ').replace('\r', ' ');
    }
}
