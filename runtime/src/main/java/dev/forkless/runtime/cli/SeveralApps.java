package dev.forkless.runtime.cli;

import dev.forkless.runtime.AppGroup;
import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.ForklessConfig;
import dev.forkless.runtime.ForklessEvent;
import dev.forkless.runtime.ForklessException;
import dev.forkless.runtime.Mode;
import dev.forkless.runtime.admin.AdminAddress;
import dev.forkless.runtime.admin.AdminServer;
import dev.forkless.runtime.log.EventLog;
import dev.forkless.runtime.log.TerminalText;
import dev.forkless.runtime.registry.ForklessHome;
import dev.forkless.runtime.registry.Registration;
import dev.forkless.runtime.registry.RegistryEntry;
import dev.forkless.runtime.registry.RuntimeRegistry;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A runtime of several apps: the config file's {@code apps} list. One {@link Forkless} per app (its own
 * ports, supervisor, copies, restart policy, log files), joined in an {@link AppGroup}, and one admin
 * API for all of them that names the app ({@code ?app=NAME}). The runtime ends when it is stopped, or
 * once no app has a serving copy left.
 */
final class SeveralApps {

    private final Main main;
    private final PrintStream err;

    SeveralApps(Main main, PrintStream err) {
        this.main = main;
        this.err = err;
    }

    /** @return the runtime's exit code */
    int run() {
        AppGroup group = new AppGroup();
        EventLog log = new EventLog(err, true).hold();
        Map<String, Forkless> apps = new LinkedHashMap<>();
        AdminServer.Builder adminBuilder = null;
        String current = null;
        try {
            if (main.compare != null && main.compare.compare) {
                throw new IllegalArgumentException("--compare runs one app: give its jar, not a config file with apps");
            }
            for (ConfigFile.App one : main.appsInFile()) {
                current = one.name();
                Main settings = main.forApp(one);
                ForklessConfig config = settings.settings();
                if (config.escalate()) {
                    throw new IllegalArgumentException("escalate moves the whole runtime to a new JVM: it takes a "
                            + "runtime of one app");
                }
                Forkless forkless = Forkless.builder()
                        .app(settings.app)
                        .args(settings.appArgs)
                        .config(config)
                        .fixedSettings(settings.fixedSettings())
                        .name(one.name())
                        .group(group)
                        .listener(log.ofApp(one.name()))
                        .build();
                apps.put(one.name(), forkless);
            }
            current = null;
            if (main.admin == null || !main.admin.trim().equalsIgnoreCase("off")) {
                adminBuilder = AdminServer.builder()
                        .address(AdminAddress.parse(main.admin == null ? AdminAddress.DEFAULT : main.admin))
                        .nextFreePort(main.admin == null)
                        .openProbes(main.adminOpenProbes)
                        .warnings(w -> err.println("forkless: warning: " + w));
                for (Forkless forkless : apps.values()) {
                    String name = forkless.appName();
                    adminBuilder.app(forkless, () -> main.rereadApp(name));
                }
                if (main.adminToken != null) {
                    adminBuilder.token(main.adminToken);
                }
                adminBuilder.build(); // refuses an address beyond loopback without a token, before anything starts
            }
        } catch (ForklessException e) {
            err.println("forkless: " + (current == null ? "" : current + ": ") + clean(e.getMessage()));
            return e.exitCode();
        } catch (IllegalArgumentException e) {
            err.println("forkless: " + (current == null ? "" : current + ": ") + clean(e.getMessage()));
            return 2;
        }
        Service service = main.service();
        AdminServer.Builder admins = adminBuilder;
        AdminAddress adminAddress = admins == null ? null
                : AdminAddress.parse(main.admin == null ? AdminAddress.DEFAULT : main.admin);
        java.util.concurrent.atomic.AtomicReference<AdminServer> adminRef = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Registration> registrationRef = new java.util.concurrent.atomic.AtomicReference<>();
        List<Forkless> all = List.copyOf(apps.values());
        Upgrade upgrade = new Upgrade(all, main::nextRuntimeCommand, main::checkSettingsAgain, adminRef,
                (port, token) -> Main.restartAdmin(admins, adminAddress, port, token), registrationRef, service, err);
        if (adminBuilder != null) {
            adminBuilder.upgrader(upgrade);
        }
        // while another runtime holds the sockets too (this one takes over, or hands over), a stop must not
        // shut them down (an app stopped on its own does, to refuse its clients): it would for both runtimes
        java.util.concurrent.atomic.AtomicBoolean takingOver = new java.util.concurrent.atomic.AtomicBoolean(main.takeOver != null);
        Main.Signals.onStop(reason -> {
            service.stopping();
            boolean shared = takingOver.get() || upgrade.underWay();
            apps.values().forEach(f -> {
                if (shared) {
                    f.handedOver(reason);
                } else {
                    f.stopAsync(reason);
                }
            });
        }, trigger -> {
            service.reloading();
            reloadOneAfterAnother(all, trigger).whenComplete((r, e) -> service.reloaded(Main.readyStatus(all)));
        });
        dev.forkless.runtime.listen.Handover.Taken taken = null;
        if (main.takeOver != null) {
            try {
                taken = Forkless.takeOver(all, main.takeOver);
            } catch (java.io.IOException e) {
                err.println("forkless: cannot take over the sockets of " + main.takeOver + ": " + e.getMessage());
                return 1;
            }
            taken.skipped().forEach(l -> err.println("forkless: warning: the old runtime's socket " + l
                    + " belongs to no app of this runtime: closed here"));
        } else {
            try {
                service.starting();
            } catch (IllegalArgumentException e) {
                err.println("forkless: " + clean(e.getMessage()));
                return 2;
            }
        }
        List<Forkless> started = new ArrayList<>();
        for (Forkless forkless : apps.values()) {
            try {
                forkless.start();
                started.add(forkless);
            } catch (ForklessException e) {
                // the apps started before stop while the log still holds their lines: a failed start is one line
                started.forEach(f -> {
                    if (takingOver.get()) { // the old runtime serves on these sockets: close them here only
                        f.handedOver(forkless.appName() + " cannot start");
                        f.awaitTermination();
                    } else {
                        f.stopAsync(forkless.appName() + " cannot start").join();
                    }
                });
                log.release(e.exitCode() != 2);
                err.println("forkless: " + forkless.appName() + ": " + clean(e.getMessage()));
                service.exited();
                return e.exitCode();
            }
        }
        log.release(true);
        if (taken != null) {
            if (adminBuilder != null) {
                AdminServer.prepare(); // the admin address goes without a server for less time
            }
            try {
                taken.started(Main.HANDOVER_STEP);
            } catch (java.io.IOException e) {
                err.println("forkless: cannot take over from the old runtime: " + e.getMessage() + "; it serves on");
                taken.abandon();
                all.forEach(f -> f.handedOver("the handover failed"));
                all.forEach(Forkless::awaitTermination);
                return 1;
            }
            main.inherit(adminBuilder, taken);
        }
        AdminServer adminServer = null;
        if (adminBuilder != null) {
            try {
                adminServer = adminBuilder.build().start();
                adminRef.set(adminServer);
                err.println("forkless event=admin url=" + adminServer.url() + "/"
                        + adminServer.tokenFile().map(f -> " token-file=" + f).orElse(""));
                main.warnIfMoved(taken, adminServer);
            } catch (ForklessException e) {
                if (main.admin != null) {
                    err.println("forkless: " + clean(e.getMessage()));
                    apps.values().forEach(f -> {
                        if (takingOver.get()) {
                            f.handedOver("the admin API cannot start");
                            f.awaitTermination();
                        } else {
                            f.stopAsync("the admin API cannot start").join();
                        }
                    });
                    service.exited();
                    return 2;
                }
                err.println("forkless: warning: " + e.getMessage() + "; the admin API is off (choose its address "
                        + "with --admin HOST:PORT)");
            }
        }
        for (Forkless forkless : apps.values()) {
            int copies = forkless.config().copies();
            String noun = forkless.mode() == Mode.PROCESS ? " process" + (copies == 1 ? "" : "es")
                    : " isolate" + (copies == 1 ? "" : "s");
            err.println("forkless ready: " + forkless.appName() + ": " + copies + noun + " serving "
                    + forkless.addresses().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
        }
        registrationRef.set(register(apps, adminServer));
        service.serving(Main.readyStatus(all), taken);
        takingOver.set(false);
        int code = 0;
        try {
            for (Forkless forkless : apps.values()) {
                code = Math.max(code, forkless.awaitTermination());
            }
        } finally {
            Registration registration = registrationRef.getAndSet(null);
            if (registration != null) {
                registration.close();
            }
            AdminServer running = adminRef.getAndSet(null);
            if (running != null) {
                running.close();
            }
            service.exited();
        }
        return code;
    }

    /** SIGHUP: a rolling reload of each app, one app after another. */
    private static java.util.concurrent.CompletableFuture<?> reloadOneAfterAnother(List<Forkless> apps, String trigger) {
        java.util.concurrent.CompletableFuture<?> chain = java.util.concurrent.CompletableFuture.completedFuture(null);
        for (Forkless forkless : apps) {
            chain = chain.thenCompose(x -> forkless.reload(trigger));
        }
        return chain;
    }

    private static String clean(String message) {
        return TerminalText.clean(String.valueOf(message), false);
    }

    /** Writes the runtime's entry to the registry ({@code forkless ls}): every app's name, the copies of all. */
    private Registration register(Map<String, Forkless> apps, AdminServer adminServer) {
        RuntimeRegistry registry = RuntimeRegistry.of(ForklessHome.current());
        List<String> modes = apps.values().stream().map(f -> f.mode().name().toLowerCase(Locale.ROOT)).distinct().toList();
        RegistryEntry entry = new RegistryEntry(ProcessHandle.current().pid(), RuntimeRegistry.startOfThisProcess(),
                List.copyOf(apps.keySet()), String.join(",", modes),
                apps.values().stream().mapToInt(f -> f.config().copies()).sum(),
                apps.values().stream().flatMap(f -> f.addresses().stream())
                        .map(a -> a.getHostString() + ":" + a.getPort()).toList(),
                Optional.ofNullable(adminServer).map(AdminServer::url),
                Optional.ofNullable(adminServer).flatMap(AdminServer::tokenFile),
                Optional.ofNullable(main.logs).map(p -> p.toAbsolutePath().normalize()),
                apps.values().stream().map(f -> new RegistryEntry.AppDetail(f.appName(),
                        f.mode().name().toLowerCase(Locale.ROOT), f.config().copies(), f.addresses().stream()
                        .map(a -> a.getHostString() + ":" + a.getPort()).toList())).toList())
                .withStartTicks(RuntimeRegistry.startTicks(ProcessHandle.current().pid()));
        Registration registration = Main.register(registry, entry, err);
        if (registration == null) {
            return null;
        }
        java.util.concurrent.atomic.AtomicReference<RegistryEntry> now = new java.util.concurrent.atomic.AtomicReference<>(entry);
        apps.forEach((name, f) -> f.addListener(event -> {
            if (event instanceof ForklessEvent.Scaled scaled) {
                registration.update(now.updateAndGet(e -> e.withAppCopies(name, scaled.to())));
            }
        }));
        return registration;
    }
}
