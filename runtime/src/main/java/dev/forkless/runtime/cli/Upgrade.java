package dev.forkless.runtime.cli;

import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.admin.AdminServer;
import dev.forkless.runtime.admin.Upgrader;
import dev.forkless.runtime.listen.Handover;
import dev.forkless.runtime.registry.Registration;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The old runtime's side of {@code forkless upgrade} (and of {@code --escalate}'s last step): starts a new
 * runtime JVM (the runtime jar and {@code java} given, else the same ones) with this one's command line,
 * hands it every listening socket of every app, then, once the new runtime's copies serve, its admin
 * address (with the admin token, so that clients holding it go on); once the new one is ready (it told
 * systemd it is the main process, and wrote the PID file), this one leaves the registry and drains and
 * exits 0. Should the new runtime fail at any step, it is killed and this one serves on, its admin API
 * back on its address.
 */
final class Upgrade implements Upgrader {

    /**
     * How long a new runtime gets from its start until it serves, besides its apps' longest ready timeout
     * (its JVM starts, then its copies, in that time).
     */
    static final Duration READY_MARGIN = Duration.ofSeconds(60);
    /** How long the new runtime's process gets to start at all. */
    private static final Duration SPAWN_TIMEOUT = Duration.ofSeconds(30);

    /** The new runtime's command line. */
    @FunctionalInterface
    interface Command {
        /**
         * @param takeOverFrom the Unix socket it takes the sockets from
         * @param target       its jar and launcher
         * @param processMode  whether it must run copies in process mode ({@code --escalate})
         */
        List<String> of(Path takeOverFrom, UpgradeTarget target, boolean processMode);
    }

    /** Starts this runtime's admin API again on its address, after a failed handover released it. */
    @FunctionalInterface
    interface AdminRestart {
        AdminServer start(int port, Optional<String> token);
    }

    private final List<Forkless> apps;
    private final Command command;
    private final Runnable settingsCheck;
    private final AtomicReference<AdminServer> admin;
    private final AdminRestart adminRestart;
    private final AtomicReference<Registration> registration;
    private final Service service;
    private final PrintStream err;
    private Status status;
    private boolean underWay;

    /**
     * @param apps          the runtime's apps
     * @param command       the new runtime's command line
     * @param settingsCheck reads the settings again as the new runtime will; throws the message of a bad one
     * @param admin         the running admin API, if any: released to the new runtime, restarted after a failure
     * @param adminRestart  starts the admin API again
     * @param registration  this runtime's entry in the registry, removed once the new one serves
     * @param service       the PID file and systemd's notifications
     * @param err           the runtime's console
     */
    Upgrade(List<Forkless> apps, Command command, Runnable settingsCheck, AtomicReference<AdminServer> admin,
            AdminRestart adminRestart, AtomicReference<Registration> registration, Service service, PrintStream err) {
        this.apps = List.copyOf(apps);
        this.command = command;
        this.settingsCheck = settingsCheck;
        this.admin = admin;
        this.adminRestart = adminRestart;
        this.registration = registration;
        this.service = service;
        this.err = err;
    }

    @Override
    public long upgrade(Optional<Path> runtimeJar, Optional<Path> java) throws IOException {
        begin();
        UpgradeTarget target;
        try {
            target = UpgradeTarget.of(runtimeJar, java);
            try {
                settingsCheck.run();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the settings a new runtime would start with: " + e.getMessage(), e);
            }
        } catch (RuntimeException e) {
            end(null);
            throw e;
        }
        return start(target, false, "upgrade");
    }

    /**
     * {@code --escalate}'s last step: the same handover, to this runtime's own jar and launcher, the new
     * runtime in process mode. Failures are logged; this runtime serves on.
     */
    void escalate() {
        try {
            begin();
        } catch (IllegalStateException e) {
            err.println("forkless: warning: cannot hand over: " + e.getMessage());
            return;
        }
        try {
            start(UpgradeTarget.of(Optional.empty(), Optional.empty()), true, "escalation");
        } catch (IOException | RuntimeException e) {
            end(null);
            err.println("forkless: warning: handover failed, this runtime keeps serving: " + e.getMessage());
        }
    }

    /** @return whether a handover is under way, or done (this runtime drains): another runtime holds the sockets */
    synchronized boolean underWay() {
        return underWay;
    }

    @Override
    public synchronized Optional<Status> status() {
        return Optional.ofNullable(status);
    }

    private synchronized void begin() {
        if (underWay) {
            throw new IllegalStateException(status != null && status.state().equals("handed-over")
                    ? "this runtime handed over to runtime pid " + status.pid() + " and is draining"
                    : "an upgrade is under way" + (status == null ? "" : " (new runtime pid " + status.pid() + ")"));
        }
        underWay = true;
    }

    /** @param outcome the status to keep, or null to keep the last one; a handed-over runtime stays under way */
    private synchronized void end(Status outcome) {
        if (outcome != null) {
            status = outcome;
        }
        underWay = outcome != null && outcome.state().equals("handed-over");
    }

    private synchronized void set(Status now) {
        status = now;
    }

    /** Starts the handover on a thread of its own; returns the new runtime's pid once its process started. */
    private long start(UpgradeTarget target, boolean processMode, String what) throws IOException {
        CompletableFuture<Process> spawned = new CompletableFuture<>();
        Thread.ofPlatform().name("forkless-" + what).start(() -> run(target, processMode, what, spawned));
        try {
            return spawned.get(SPAWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).pid();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(String.valueOf(e.getCause()), e);
        } catch (TimeoutException e) {
            throw new IOException("the new runtime's process did not start within " + SPAWN_TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
    }

    private void run(UpgradeTarget target, boolean processMode, String what, CompletableFuture<Process> spawned) {
        java.util.concurrent.atomic.AtomicInteger releasedPort = new java.util.concurrent.atomic.AtomicInteger(-1);
        AtomicReference<Optional<String>> releasedToken = new AtomicReference<>(Optional.empty());
        java.util.concurrent.atomic.AtomicLong startedPid = new java.util.concurrent.atomic.AtomicLong();
        Handover.Steps steps = new Handover.Steps() {
            @Override
            public void started(Process process) {
                startedPid.set(process.pid());
                set(new Status(process.pid(), "starting", ""));
                err.println("forkless event=" + (what.equals("upgrade") ? "upgrading" : "handing-over") + " pid="
                        + process.pid() + " runtime=" + target.jar() + " java=" + target.java());
                spawned.complete(process);
            }

            @Override
            public Map<String, String> extras() {
                Map<String, String> extras = new LinkedHashMap<>();
                AdminServer running = admin.get();
                if (running != null) {
                    extras.put("admin-port", String.valueOf(running.port()));
                    running.tokenToHandOver().ifPresent(t -> extras.put("admin-token",
                            HexFormat.of().formatHex(t.getBytes(StandardCharsets.UTF_8))));
                }
                return extras;
            }

            @Override
            public void release() {
                AdminServer running = admin.getAndSet(null);
                if (running != null) {
                    releasedToken.set(running.tokenToHandOver());
                    releasedPort.set(running.port());
                    running.close(); // the new runtime binds the address next
                }
            }
        };
        Process next;
        try {
            Duration readyTimeout = READY_MARGIN.plus(apps.stream().map(f -> f.config().readyTimeout())
                    .max(java.util.Comparator.naturalOrder()).orElse(Duration.ZERO));
            next = Forkless.handOver(apps, path -> command.of(path, target, processMode), readyTimeout, steps);
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            spawned.completeExceptionally(e instanceof IOException io ? io : new IOException(why, e));
            if (releasedPort.get() >= 0) {
                try {
                    AdminServer again = adminRestart.start(releasedPort.get(), releasedToken.get());
                    admin.set(again);
                    err.println("forkless event=admin url=" + again.url() + "/"
                            + again.tokenFile().map(f -> " token-file=" + f).orElse(""));
                } catch (RuntimeException again) {
                    err.println("forkless: warning: the admin API cannot listen again: " + again.getMessage());
                }
            }
            end(new Status(startedPid.get(), "failed", why));
            err.println("forkless event=" + what + "-failed pid=" + startedPid.get() + " reason=\""
                    + why.replace('"', '\'') + "\" serving-pid=" + ProcessHandle.current().pid());
            return;
        }
        service.handedOver();
        Registration entry = registration.getAndSet(null);
        if (entry != null) {
            entry.close(); // forkless ls lists the new runtime, not both
        }
        end(new Status(next.pid(), "handed-over", ""));
        err.println("forkless event=handed-over pid=" + next.pid());
        apps.forEach(f -> f.handedOver("handed over to runtime pid " + next.pid()));
    }
}
