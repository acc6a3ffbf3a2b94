package dev.forkless.runtime.registry;

import java.io.IOException;

/**
 * A runtime's entry in the {@link RuntimeRegistry}, while it runs: {@link #update} rewrites it (after a
 * scale), {@link #close} removes it, and so does the JVM's exit if nothing closed it before (a SIGKILL
 * leaves it, for readers to find stale).
 */
public final class Registration implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Registration.class.getName());

    private final RuntimeRegistry registry;
    private final long pid;
    private final Thread atExit;
    private boolean closed;

    Registration(RuntimeRegistry registry, long pid) {
        this.registry = registry;
        this.pid = pid;
        this.atExit = Thread.ofPlatform().unstarted(this::removeFile);
    }

    void removeAtExit() {
        Runtime.getRuntime().addShutdownHook(atExit);
    }

    /** @return the file of the entry */
    public java.nio.file.Path file() {
        return registry.fileOf(pid);
    }

    /**
     * Replaces the entry; nothing once closed.
     *
     * @param entry the new entry, of the same pid
     */
    public synchronized void update(RegistryEntry entry) {
        if (closed) {
            return;
        }
        if (entry.pid() != pid) {
            throw new IllegalArgumentException("the entry of pid " + entry.pid() + " is not this registration's, " + pid);
        }
        try {
            registry.write(entry);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot update " + file() + ": " + e);
        }
    }

    private synchronized void removeFile() {
        closed = true;
        registry.remove(pid);
    }

    /** Removes the entry. */
    @Override
    public void close() {
        removeFile();
        try {
            Runtime.getRuntime().removeShutdownHook(atExit);
        } catch (IllegalStateException exiting) {
            // the JVM is exiting: the hook runs (again) and finds nothing to remove
        }
    }
}
