package dev.forkless.runtime.cli;

import dev.forkless.runtime.admin.AdminAddress;
import dev.forkless.runtime.log.TerminalText;
import dev.forkless.runtime.registry.RegistryEntry;
import dev.forkless.runtime.registry.RuntimeRegistry;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Finds the admin API a client command talks to when no {@code --admin} is given, in the registry of the
 * machine's runtimes: the runtime that runs the app named, or the only runtime running; with no runtime
 * registered, the default address (a runtime of an older version, or one registered elsewhere).
 */
final class RuntimeFinder {

    private final RuntimeRegistry registry;

    RuntimeFinder(RuntimeRegistry registry) {
        this.registry = registry;
    }

    /**
     * Where a runtime's admin API is.
     *
     * @param address       its address
     * @param tokenFile     its token's file, when the registry says
     * @param unregistered  when the registry listed no runtime (the address is the default one): where it looked
     *                      and which stale entries it removed, to add to "no runtime reachable"
     */
    record Found(AdminAddress address, Optional<Path> tokenFile, Optional<String> unregistered) {
        /** A runtime the registry lists. */
        Found(AdminAddress address, Optional<Path> tokenFile) {
            this(address, tokenFile, Optional.empty());
        }
    }

    /**
     * @param app the app named on the command line, if any
     * @return the admin API to talk to
     * @throws IllegalArgumentException (exit 2) when no runtime, or more than one, runs the app named, when
     *                                  it has no admin API, or when no app is named and several runtimes run
     */
    Found find(Optional<String> app) {
        RuntimeRegistry.Scan scan = registry.scan();
        List<RegistryEntry> live = scan.live();
        if (app.isPresent()) {
            String name = app.get();
            List<RegistryEntry> running = live.stream().filter(e -> e.runs(name)).toList();
            if (running.isEmpty()) {
                throw new IllegalArgumentException("no runtime runs the app '" + TerminalText.clean(name, false) + "'"
                        + (live.isEmpty() ? " (none is registered in " + registry.folder() + removed(scan) + ")"
                        : " (running: " + apps(live) + "; see forkless ls)"));
            }
            if (running.size() > 1) {
                throw new IllegalArgumentException(running.size() + " runtimes run the app '" + TerminalText.clean(name, false)
                        + "' (" + admins(running) + "): choose one with --admin URL");
            }
            return found(running.getFirst());
        }
        List<RegistryEntry> withAdmin = live.stream().filter(e -> e.admin().isPresent()).toList();
        if (withAdmin.size() > 1) {
            throw new IllegalArgumentException(withAdmin.size() + " runtimes run on this machine (" + apps(withAdmin)
                    + "): name the app, or give --admin URL");
        }
        if (withAdmin.size() == 1) {
            return found(withAdmin.getFirst());
        }
        // none registered: the default address, and the registry's folder for the message if none answers there
        return new Found(AdminAddress.parse(AdminAddress.DEFAULT), Optional.empty(),
                Optional.of("no runtime is registered in " + registry.folder() + removed(scan) + " (forkless ls)"));
    }

    /** @return {@code ; stale entries removed: pid 12 is not running}, or nothing when it removed none */
    private static String removed(RuntimeRegistry.Scan scan) {
        return scan.removed().isEmpty() ? "" : "; stale entries removed: " + String.join(", ", scan.removed());
    }

    /**
     * @param pid a runtime's process id
     * @return where that runtime's admin API is, when it is registered, runs and has one
     */
    Optional<Found> ofPid(long pid) {
        return registry.live().stream().filter(e -> e.pid() == pid && e.admin().isPresent()).findFirst()
                .map(RuntimeFinder::found);
    }

    private static Found found(RegistryEntry entry) {
        if (entry.admin().isEmpty()) {
            throw new IllegalArgumentException("the runtime that runs " + String.join(", ", entry.apps()) + " (pid "
                    + entry.pid() + ") has no admin API (it was started with --admin off)");
        }
        return new Found(AdminAddress.parse(entry.admin().get()), entry.tokenFile());
    }

    /** @return {@code demo (pid 12), api (pid 13)} */
    private static String apps(List<RegistryEntry> entries) {
        return entries.stream().map(e -> String.join(",", e.apps()) + " (pid " + e.pid() + ")")
                .collect(Collectors.joining(", "));
    }

    /** @return {@code pid 12 at http://127.0.0.1:9615, pid 13 at http://127.0.0.1:9616} */
    private static String admins(List<RegistryEntry> entries) {
        return entries.stream().map(e -> "pid " + e.pid() + e.admin().map(a -> " at " + a).orElse(" without admin API"))
                .collect(Collectors.joining(", "));
    }
}
