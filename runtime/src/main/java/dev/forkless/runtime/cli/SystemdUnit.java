package dev.forkless.runtime.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A systemd service unit that runs one Forkless runtime: restarted when it fails, stopped with SIGTERM
 * (a graceful stop that drains), reloaded with SIGHUP (a rolling reload), upgraded without downtime with
 * {@code forkless upgrade}. It is {@code Type=notify}: the runtime says {@code READY=1} once its copies
 * serve. systemd follows an upgrade through {@code PIDFile=}: the new runtime writes its pid there before the
 * old one exits, and at that exit systemd reads the file and takes the new runtime (by then its child) as the
 * main process, one it can wait for and stop. ({@code MAINPID=} from the new runtime, while the old one
 * still runs, would make a main process systemd cannot wait for: on stop it sends SIGTERM and at once
 * SIGKILL, seen with systemd 252; the runtime sends it only when no PID file is tracked.)
 *
 * @param name             the unit's name, without {@code .service}
 * @param user             the user the runtime runs as
 * @param workingDirectory where relative paths in the command resolve
 * @param command          the runtime's command line: absolute java, its options, {@code -jar}, runtime.jar, args
 * @param stopTimeout      how long systemd waits for a stop before SIGKILL; above the drain timeout
 * @param invocation       how the unit was made, for its header comment
 */
record SystemdUnit(String name, String user, Path workingDirectory, List<String> command, Duration stopTimeout,
                   String invocation) {

    /** The PID file systemd tracks, in the unit's runtime directory ({@code RuntimeDirectory=}). */
    static final String PID_FILE = "runtime.pid";

    /** Room, past the drain timeout, for unloading the copies and the JVM's own exit. */
    static final Duration STOP_MARGIN = Duration.ofSeconds(10);

    SystemdUnit {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(workingDirectory, "workingDirectory");
        command = List.copyOf(command);
        Objects.requireNonNull(stopTimeout, "stopTimeout");
        Objects.requireNonNull(invocation, "invocation");
        if (command.isEmpty() || !Path.of(command.getFirst()).isAbsolute()) {
            throw new IllegalArgumentException("the command must start with an absolute path: " + command);
        }
    }

    /** @return the stop timeout systemd should allow a runtime that drains for {@code drainTimeout} */
    static Duration stopTimeoutFor(Duration drainTimeout) {
        return drainTimeout.plus(STOP_MARGIN);
    }

    /** @return the unit file's text */
    String render() {
        long stopSeconds = Math.ceilDiv(stopTimeout.toMillis(), 1000);
        return """
                # Forkless as a systemd service. Made by:
                #   %7$s
                # Install it and start it at boot:
                #   sudo cp %1$s.service /etc/systemd/system/ && sudo systemctl daemon-reload
                #   sudo systemctl enable --now %1$s
                # systemctl reload %1$s: rolling reload (SIGHUP); systemctl stop %1$s: graceful stop (SIGTERM).
                # Upgrade without downtime (a new runtime jar or JDK; replace files with mv, never in place):
                #   java -jar runtime.jar upgrade [--runtime JAR] [--java PATH]
                # The new runtime JVM takes over the sockets and writes its pid to the PID file; when the old
                # runtime exits, systemd reads it and follows the new one as the service's main process.
                [Unit]
                Description=Forkless runtime (%1$s)
                After=network-online.target
                Wants=network-online.target

                [Service]
                # The runtime says READY=1 once its copies serve; after forkless upgrade the new runtime JVM
                # (a child of the old one) says READY=1 too: NotifyAccess=all.
                Type=notify
                NotifyAccess=all
                # The runtime writes its pid to $PIDFILE (systemd 251 and later set it from PIDFile=; set here
                # for older ones); a runtime that takes over writes its own before the old one exits.
                RuntimeDirectory=%1$s
                PIDFile=/run/%1$s/%8$s
                Environment=PIDFILE=/run/%1$s/%8$s
                # Room for the copies to start (an app that starts slowly, many copies) before READY=1.
                TimeoutStartSec=300
                User=%2$s
                WorkingDirectory=%3$s
                ExecStart=%4$s
                # $MAINPID is the runtime serving now: after an upgrade, the new one once the old one exited.
                ExecReload=/bin/kill -HUP $MAINPID
                # SIGTERM goes to the runtime only: it drains and stops its copies (child JVMs too, in
                # process mode); whatever is left when TimeoutStopSec ends gets SIGKILL.
                KillSignal=SIGTERM
                KillMode=mixed
                TimeoutStopSec=%5$d
                Restart=on-failure
                RestartSec=1
                # Exit 2 is bad input (a missing jar, a taken port): restarting would not help.
                RestartPreventExitStatus=2
                SyslogIdentifier=%6$s
                LimitNOFILE=65536

                [Install]
                WantedBy=multi-user.target
                """.formatted(name, user, workingDirectory.toString().replace("%", "%%"), execLine(command), stopSeconds,
                name, invocation.replace("\n", " "), PID_FILE);
    }

    /** Joins a command line as systemd's {@code ExecStart=} reads it. */
    static String execLine(List<String> command) {
        return command.stream().map(SystemdUnit::quote).collect(Collectors.joining(" "));
    }

    /**
     * One word of an {@code ExecStart=} line: {@code $} and {@code %} escaped (systemd would expand them),
     * double-quoted with C escapes when it has spaces, quotes or backslashes.
     */
    static String quote(String word) {
        String escaped = escapeValue(word);
        boolean plain = !escaped.isEmpty() && escaped.chars().noneMatch(c -> Character.isWhitespace(c)
                || c == '"' || c == '\'' || c == '\\' || c == ';');
        if (plain) {
            return escaped;
        }
        StringBuilder out = new StringBuilder("\"");
        for (char c : escaped.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                default -> out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /** Escapes systemd's specifiers ({@code %}) and variables ({@code $}) in a value. */
    static String escapeValue(String value) {
        return value.replace("%", "%%").replace("$", "$$");
    }
}
