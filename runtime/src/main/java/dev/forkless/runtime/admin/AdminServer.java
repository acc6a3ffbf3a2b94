package dev.forkless.runtime.admin;

import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.ForklessException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

import io.helidon.common.SerializationConfig;
import io.helidon.webserver.WebServer;

/**
 * The admin plane of a runtime: a small Helidon server (the runtime's own, never an isolate's) serving
 * the JSON API, health checks, Prometheus metrics and the live dashboard.
 *
 * <pre>{@code
 * try (AdminServer admin = AdminServer.builder()
 *         .forkless(forkless)
 *         .address(AdminAddress.parse("127.0.0.1:9615"))
 *         .build()
 *         .start()) {
 *     System.err.println("admin on " + admin.url() + ", token in " + admin.tokenFile().orElseThrow());
 *     forkless.awaitTermination();
 * }
 * }</pre>
 *
 * Every request but the dashboard's static files needs a bearer token: the one given to
 * {@link Builder#token}, or else a random one written to a file only its owner can read
 * ({@link #defaultTokenFile}). Reads are open to requests on loopback that name a loopback host, and the
 * health checks and metrics to anyone with {@link Builder#openProbes}. An address other than loopback is
 * refused without a given token.
 */
public final class AdminServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(AdminServer.class.getName());

    /** How many ports after a taken default one {@link Builder#nextFreePort} tries before any free one. */
    static final int NEXT_PORTS = 20;

    /** The runtime's apps by name, in the order given; one for a runtime of one app. */
    private final java.util.Map<String, AppEntry> apps;
    private final AdminAddress address;
    private final Optional<String> givenToken;
    /** The token of the runtime this one took over from: kept, and written to the file as a random one is. */
    private final Optional<String> inheritedToken;
    private final Optional<Path> tokenFile;
    private final Upgrader upgrader;
    private final boolean openProbes;
    private final boolean nextFreePort;
    private final java.util.function.Consumer<String> warnings;
    private AdminToken token;
    private AdminMetrics metrics;
    private WebServer server;

    /** One app the server controls, and where its settings are re-read (null: nowhere). */
    record AppEntry(Forkless forkless, dev.forkless.runtime.SettingsSource settings) {
    }

    private AdminServer(Builder builder) {
        this.apps = new java.util.LinkedHashMap<>(builder.apps);
        if (builder.forkless != null) {
            this.apps.put(builder.forkless.appName(), new AppEntry(builder.forkless, builder.settings));
        }
        this.address = builder.address;
        this.givenToken = builder.token;
        this.inheritedToken = builder.inheritedToken;
        this.tokenFile = builder.tokenFile;
        this.upgrader = builder.upgrader;
        this.openProbes = builder.openProbes;
        this.nextFreePort = builder.nextFreePort;
        this.warnings = builder.warnings;
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param port an admin port
     * @return where a runtime with that admin port writes its token, and the CLI looks for it:
     *         {@code ~/.forkless/admin-PORT.token}
     */
    public static Path defaultTokenFile(int port) {
        return AdminToken.defaultFile(port);
    }

    /**
     * Binds the address and starts serving.
     *
     * @return this
     * @throws ForklessException (exit code 2) when the address cannot be bound or the token not written
     */
    public synchronized AdminServer start() {
        if (server != null) {
            throw new IllegalStateException("already started");
        }
        InetSocketAddress wanted = address.resolve();
        keepHelidonOffTheJvmWideSerialFilter();
        AdminMetrics m = new AdminMetrics(new CopyResources());
        AdminToken t = givenToken.or(() -> inheritedToken).map(v -> new AdminToken(v, Optional.empty()))
                .orElseGet(AdminToken::random);
        ReadAccess access = new ReadAccess(t, wanted.getAddress().isLoopbackAddress(), openProbes);
        AdminApi api = new AdminApi(apps, t, access, m, new CopyResources(), upgrader);
        WebServer s = null;
        String refused = null;
        for (int port : candidatePorts(wanted.getPort())) {
            InetSocketAddress bind = new InetSocketAddress(wanted.getAddress(), port);
            if (port != 0) {
                // Helidon logs a bind failure and returns; this check gives the user one clear line instead
                try (ServerSocketChannel probe = ServerSocketChannel.open()) {
                    probe.bind(bind);
                } catch (IOException e) {
                    refused = refused != null ? refused : e.getMessage();
                    continue;
                }
            }
            WebServer started = QuietHelidonLog.run(() -> WebServer.builder()
                    .shutdownHook(false)
                    .address(bind.getAddress())
                    .port(bind.getPort())
                    .maxPayloadSize(SharedStateEndpoint.MAX_VALUE_BYTES)
                    .directHandlers(JsonErrors::register)
                    .shutdownGracePeriod(Duration.ofMillis(200))
                    .routing(r -> r.addFilter(JsonErrors::rejectOddTargets).register(api).register(new Dashboard())
                            .any(AdminApi::notFound)
                            .error(Throwable.class, JsonErrors::unexpected))
                    .build()
                    .start());
            if (started.isRunning()) {
                s = started;
                break;
            }
            refused = refused != null ? refused : "taken meanwhile"; // another process bound it after the check
        }
        if (s == null) {
            m.close();
            throw new ForklessException("cannot listen on admin address " + address.host() + ":" + address.port()
                    + (refused == null ? "" : ": " + refused), 2);
        }
        if (s.port() != wanted.getPort() && wanted.getPort() != 0) {
            LOG.log(System.Logger.Level.DEBUG, "admin port " + wanted.getPort() + " is taken: using " + s.port());
        }
        if (givenToken.isEmpty()) {
            int port = s.port();
            Path file = tokenFile.orElseGet(() -> AdminToken.defaultFile(port));
            try {
                t = t.writeTo(file, warnings);
            } catch (IOException e) {
                s.stop();
                m.close();
                throw new ForklessException("cannot write the admin token to " + file + ": "
                        + dev.forkless.runtime.IoReason.of(e), 2);
            }
        }
        apps.values().forEach(a -> a.forkless().addListener(m));
        this.token = t;
        this.metrics = m;
        this.server = s;
        LOG.log(System.Logger.Level.DEBUG, "admin server on " + url());
        return this;
    }

    /**
     * Loads and initializes what starting the admin server needs, without binding anything: a runtime that
     * takes over calls it before the old one lets go of the admin address, so that the address is without
     * a server for less time.
     */
    public static void prepare() {
        keepHelidonOffTheJvmWideSerialFilter();
        QuietHelidonLog.run(() -> WebServer.builder()
                .shutdownHook(false)
                .port(0)
                .maxPayloadSize(SharedStateEndpoint.MAX_VALUE_BYTES)
                .directHandlers(JsonErrors::register)
                .routing(r -> r.addFilter(JsonErrors::rejectOddTargets).register(new Dashboard())
                        .any(AdminApi::notFound)
                        .error(Throwable.class, JsonErrors::unexpected))
                .build());
    }

    /**
     * The ports to try, in order: the one asked for; when it may be another ({@link Builder#nextFreePort}),
     * then the {@value #NEXT_PORTS} after it and, if those are taken too, any free one.
     */
    java.util.List<Integer> candidatePorts(int port) {
        if (!nextFreePort || port == 0) {
            return java.util.List.of(port);
        }
        java.util.List<Integer> ports = new java.util.ArrayList<>();
        for (int p = port; p <= Math.min(65_535, port + NEXT_PORTS); p++) {
            ports.add(p);
        }
        ports.add(0);
        return ports;
    }

    /**
     * The runtime's Helidon must not install a JVM-wide deserialization filter: the apps in its isolates
     * (Helidon or not) decide that for themselves, as they would alone in a JVM.
     */
    private static void keepHelidonOffTheJvmWideSerialFilter() {
        try {
            SerializationConfig.builder()
                    .onNoConfig(SerializationConfig.Action.IGNORE)
                    .onWrongConfig(SerializationConfig.Action.IGNORE)
                    .ignoreFiles(true)
                    .build()
                    .configure();
        } catch (IllegalArgumentException alreadyConfigured) {
            // a previous admin server in this JVM configured it the same way, or an embedder did
        }
    }

    /** @return the port it listens on */
    public synchronized int port() {
        return running().port();
    }

    /** @return its base URL, {@code http://host:port} */
    public synchronized String url() {
        return new AdminAddress(address.host(), running().port()).url();
    }

    /** @return the file the token was written to; empty when the token was given */
    public synchronized Optional<Path> tokenFile() {
        running();
        return token.file();
    }

    /**
     * The token a runtime that takes over from this one keeps ({@code forkless upgrade}): the one this
     * server made up (or kept); empty when it was given, as the new runtime's own settings give it too.
     */
    public synchronized Optional<String> tokenToHandOver() {
        running();
        return givenToken.isPresent() ? Optional.empty() : Optional.of(token.value());
    }

    private WebServer running() {
        if (server == null) {
            throw new IllegalStateException("not started");
        }
        return server;
    }

    /** Stops serving and deletes the token file it wrote. */
    @Override
    public synchronized void close() {
        if (server != null) {
            WebServer s = server;
            QuietHelidonLog.run(s::stop);
            metrics.close();
            token.deleteFile();
            server = null;
        }
    }

    /** Configures an {@link AdminServer}. */
    public static final class Builder {
        private Forkless forkless;
        private final java.util.Map<String, AppEntry> apps = new java.util.LinkedHashMap<>();
        private AdminAddress address = AdminAddress.parse(AdminAddress.DEFAULT);
        private Optional<String> token = Optional.empty();
        private Optional<String> inheritedToken = Optional.empty();
        private Optional<Path> tokenFile = Optional.empty();
        private Upgrader upgrader;
        private boolean openProbes;
        private boolean nextFreePort;
        private java.util.function.Consumer<String> warnings = w -> LOG.log(System.Logger.Level.WARNING, w);
        private dev.forkless.runtime.SettingsSource settings;

        private Builder() {
        }

        /**
         * Lets anyone read the health checks ({@code /health/live}, {@code /health/ready}) and the metrics
         * ({@code /metrics}) without the token: for a kubelet's probes and a Prometheus scraper on an
         * admin bound beyond loopback (default: they need the token there, as every read does).
         *
         * @param open whether they are open
         * @return this
         */
        public Builder openProbes(boolean open) {
            this.openProbes = open;
            return this;
        }

        /**
         * Lets the server take another port when the address's is taken: the next free one of the
         * {@value AdminServer#NEXT_PORTS} after it, else any free one. For the default address, so that
         * several runtimes on one machine each have an admin API (default: the port asked for, or an error).
         *
         * @param next whether another port will do
         * @return this
         */
        public Builder nextFreePort(boolean next) {
            this.nextFreePort = next;
            return this;
        }

        /**
         * @param warnings receives a line for each thing the server fixed when it started (a token folder
         *                 open to other users); default: the runtime's logger
         * @return this
         */
        public Builder warnings(java.util.function.Consumer<String> warnings) {
            this.warnings = Objects.requireNonNull(warnings);
            return this;
        }

        /** @param forkless the runtime it controls @return this */
        /**
         * Where {@code POST /api/reload?updateEnv=true} re-reads the settings (the CLI: its command line and
         * config file); without one such a reload is refused.
         *
         * @param settings the source
         * @return this
         */
        public Builder settings(dev.forkless.runtime.SettingsSource settings) {
            this.settings = java.util.Objects.requireNonNull(settings);
            return this;
        }

        /**
         * Adds one app of a runtime of several ({@code apps:} in the config file): the API names it
         * ({@code ?app=NAME}, docs/operations.md).
         *
         * @param forkless the app's runtime, its {@link Forkless#appName} the name
         * @param settings where {@code POST /api/reload?app=NAME&updateEnv=true} re-reads its settings
         * @return this
         */
        public Builder app(Forkless forkless, dev.forkless.runtime.SettingsSource settings) {
            if (apps.putIfAbsent(forkless.appName(), new AppEntry(forkless, Objects.requireNonNull(settings))) != null) {
                throw new IllegalArgumentException("two apps named " + forkless.appName());
            }
            return this;
        }

        /** @param forkless the runtime it controls @return this */
        public Builder forkless(Forkless forkless) {
            this.forkless = Objects.requireNonNull(forkless);
            return this;
        }

        /** @param address where it listens (default {@value AdminAddress#DEFAULT}) @return this */
        public Builder address(AdminAddress address) {
            this.address = Objects.requireNonNull(address);
            return this;
        }

        /**
         * The token mutating requests must carry; without one, a random token is written to a file.
         *
         * @param token the token, 16 to 4096 characters ({@link dev.forkless.runtime.Limit#ADMIN_TOKEN}):
         *              a short one can be guessed
         * @return this
         */
        public Builder token(String token) {
            if (token.isBlank()) {
                throw new IllegalArgumentException("the admin token must not be empty");
            }
            if (token.length() < dev.forkless.runtime.Limit.ADMIN_TOKEN.min()) {
                throw new IllegalArgumentException("the admin token must be at least "
                        + dev.forkless.runtime.Limit.ADMIN_TOKEN.min() + " characters long, not " + token.length()
                        + " (a short one can be guessed; make one with openssl rand -hex 32)");
            }
            dev.forkless.runtime.Limit.ADMIN_TOKEN.check("the admin token's length", token.length());
            if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("the admin token must be printable ASCII without spaces");
            }
            this.token = Optional.of(token);
            return this;
        }

        /**
         * The token of the runtime this one takes over from ({@code forkless upgrade}): used instead of a
         * random one, and written to the token file as a random one is, so that clients and dashboards
         * holding it go on working. A token given with {@link #token} wins.
         *
         * @param token the old runtime's {@link AdminServer#tokenToHandOver}
         * @return this
         */
        public Builder inheritToken(String token) {
            if (token.length() < dev.forkless.runtime.Limit.ADMIN_TOKEN.min()
                    || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("not an admin token");
            }
            dev.forkless.runtime.Limit.ADMIN_TOKEN.check("the admin token's length", token.length());
            this.inheritedToken = Optional.of(token);
            return this;
        }

        /**
         * What {@code POST /api/upgrade} calls; without one it answers 409.
         *
         * @param upgrader hands the runtime over to a new runtime JVM
         * @return this
         */
        public Builder upgrader(Upgrader upgrader) {
            this.upgrader = Objects.requireNonNull(upgrader);
            return this;
        }

        /** @param file where the random token goes (default {@link #defaultTokenFile}) @return this */
        public Builder tokenFile(Path file) {
            this.tokenFile = Optional.of(file);
            return this;
        }

        /**
         * @return the server, not started
         * @throws IllegalArgumentException when it would listen beyond loopback without a given token
         */
        public AdminServer build() {
            if (forkless == null && apps.isEmpty()) {
                throw new IllegalStateException("no runtime to control");
            }
            if (!address.isLoopback() && token.isEmpty()) {
                throw new IllegalArgumentException("the admin API on " + address.host() + " would be reachable from "
                        + "other machines: give it a token (--admin-token) or bind it to 127.0.0.1");
            }
            return new AdminServer(this);
        }
    }
}
