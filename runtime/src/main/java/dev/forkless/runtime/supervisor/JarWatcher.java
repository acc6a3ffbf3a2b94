package dev.forkless.runtime.supervisor;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Watches the app's jars (the jar and its {@code Class-Path} jars) with the JDK's {@link WatchService}
 * and calls back once the files stop changing for the debounce delay: a build that rewrites several jars
 * makes one reload, not one per file.
 */
public final class JarWatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("forkless");

    private final WatchService service;
    private final Map<WatchKey, Path> dirs = new HashMap<>();
    private final Set<Path> files;
    private final Duration delay;
    private final Runnable onChange;
    private final Thread thread;

    public JarWatcher(List<Path> jars, Duration delay, Runnable onChange) throws IOException {
        this.files = jars.stream().map(p -> p.toAbsolutePath().normalize()).collect(Collectors.toUnmodifiableSet());
        this.delay = delay;
        this.onChange = onChange;
        this.service = FileSystems.getDefault().newWatchService();
        for (Path dir : files.stream().map(Path::getParent).collect(Collectors.toSet())) {
            WatchKey key = dir.register(service, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
            dirs.put(key, dir);
        }
        this.thread = Supervisor.runtimeThreads().name("forkless-watch").start(this::run);
    }

    private void run() {
        long due = 0; // nanoTime when the pending change fires; 0 when none
        try {
            while (true) {
                WatchKey key = due == 0
                        ? service.take()
                        : service.poll(Math.max(0, due - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (key == null) {
                    due = 0;
                    try {
                        onChange.run();
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, "reload after a change failed", e);
                    }
                    continue;
                }
                Path dir = dirs.get(key);
                for (WatchEvent<?> event : key.pollEvents()) {
                    if (event.context() instanceof Path name && dir != null && files.contains(dir.resolve(name))) {
                        due = System.nanoTime() + delay.toNanos();
                    }
                }
                key.reset();
            }
        } catch (InterruptedException | ClosedWatchServiceException stopped) {
            // closed
        }
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException ignored) {
            // closing
        }
        thread.interrupt();
    }
}
