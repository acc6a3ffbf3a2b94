package dev.forkless.runtime.admin;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * CPU time and resident memory of a copy, where they can be measured honestly: only for a copy that is
 * a process of its own (process mode). An isolate shares the runtime's process and heap: the JDK cannot
 * tell its bytes from another isolate's, and its requests run on virtual threads, whose CPU time the JDK
 * does not measure per thread; so for an isolate both are unknown, never a guess.
 */
final class CopyResources {

    private final long self = ProcessHandle.current().pid();

    /** @return whether {@code pid} is a process of its own, not the runtime's */
    boolean ownProcess(long pid) {
        return pid > 0 && pid != self;
    }

    /** @return CPU time of the process, user and system, in ms */
    OptionalLong cpuMs(long pid) {
        if (!ownProcess(pid)) {
            return OptionalLong.empty();
        }
        return ProcessHandle.of(pid)
                .flatMap(p -> p.info().totalCpuDuration())
                .map(Duration::toMillis)
                .map(OptionalLong::of)
                .orElse(OptionalLong.empty());
    }

    /** @return the resident set size of the process, in bytes (Linux: {@code VmRSS} of /proc/PID/status) */
    OptionalLong memoryBytes(long pid) {
        return ownProcess(pid) ? rss(pid) : OptionalLong.empty();
    }

    /** @return the resident set size of any process, the runtime's own included */
    static OptionalLong rss(long pid) {
        Path status = Path.of("/proc", String.valueOf(pid), "status");
        if (!Files.isReadable(status)) {
            return OptionalLong.empty();
        }
        try (var lines = Files.lines(status)) {
            return lines.filter(l -> l.startsWith("VmRSS:"))
                    .findFirst()
                    .map(l -> l.substring(6).trim().split("\\s+"))
                    .map(parts -> OptionalLong.of(Long.parseLong(parts[0]) * 1024))
                    .orElse(OptionalLong.empty());
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
