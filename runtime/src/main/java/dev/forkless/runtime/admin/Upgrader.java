package dev.forkless.runtime.admin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@code POST /api/upgrade} calls: hands the runtime's sockets to a fresh runtime JVM (a new runtime
 * jar, a new JDK), which takes over while this one drains and exits ({@code forkless upgrade}). The answer
 * comes once the new process started; how it went is {@link #status()} ({@code upgrade} in
 * {@code GET /api/runtime}) until this runtime's admin API closes, and the new runtime's pid on this
 * address after.
 */
public interface Upgrader {

    /**
     * Starts an upgrade.
     *
     * @param runtimeJar the new runtime jar; empty: the one this runtime runs
     * @param java       the new {@code java} launcher; empty: the one this runtime runs on
     * @return the new runtime's pid
     * @throws IllegalArgumentException naming a bad jar or launcher (400)
     * @throws IllegalStateException    when an upgrade is under way, or this runtime is stopping (409)
     * @throws IOException              when the new runtime's process cannot be started (500)
     */
    long upgrade(Optional<Path> runtimeJar, Optional<Path> java) throws IOException;

    /** @return the last upgrade's status; empty when there was none */
    Optional<Status> status();

    /**
     * An upgrade's status.
     *
     * @param pid    the new runtime's pid
     * @param state  {@code starting} (its copies start), {@code handed-over} (it serves, this one drains)
     *               or {@code failed} (this runtime serves on)
     * @param reason why it failed; empty otherwise
     */
    record Status(long pid, String state, String reason) {
    }
}
