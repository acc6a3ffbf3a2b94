package dev.forkless.runtime.admin;

import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.OperationResult;
import dev.forkless.runtime.WorkerSnapshot;
import dev.forkless.runtime.WorkerState;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The JSON API, the health checks and the metrics. Every change ({@code POST}, {@code PUT}, {@code DELETE})
 * needs the bearer token, checked before anything else, so a request without it learns nothing and
 * changes nothing. Reads need it too, unless the admin listens on loopback and the request names a
 * loopback host ({@link ReadAccess}: a web page the operator visits cannot read them through DNS
 * rebinding); the health checks and metrics can be opened to scrapers. Every error is a 4xx or 5xx with
 * {@code {"error": "..."}}.
 */
final class AdminApi implements HttpService {

    /** The largest request body read: every body this API takes is a tiny JSON object. */
    static final int MAX_BODY = 16 * 1024;
    private static final Duration OPERATION_TIMEOUT = Duration.ofMinutes(10);
    private static final String JSON = "application/json";
    /** Lines of a copy's log the API gives by default, and at most (what the runtime keeps). */
    static final int DEFAULT_LOG_LINES = 50;
    static final int MAX_LOG_LINES = 200;

    /** The runtime's apps by name, in the order of the config file; one for a runtime of one app. */
    private final Map<String, App> apps = new LinkedHashMap<>();
    private final AdminToken token;
    private final AdminMetrics metrics;
    private final CopyResources resources;
    private final ReadAccess access;
    private final ObjectMapper json = new ObjectMapper();
    private final long startedAt = System.currentTimeMillis();
    /** {@code POST /api/upgrade}; null: refused (an embedder's runtime). */
    private final Upgrader upgrader;

    /**
     * One app of the runtime.
     *
     * @param name     its name
     * @param forkless its runtime
     * @param timeline its events
     * @param counters its counts of restarts, crashes, reloads
     * @param settings where a reload with new settings reads them; null: such a reload is refused
     */
    private record App(String name, Forkless forkless, EventTimeline timeline, AppCounters counters,
                       dev.forkless.runtime.SettingsSource settings) {
    }

    AdminApi(Map<String, AdminServer.AppEntry> entries, AdminToken token, ReadAccess access, AdminMetrics metrics,
             CopyResources resources, Upgrader upgrader) {
        this.upgrader = upgrader;
        entries.forEach((name, entry) -> {
            Forkless forkless = entry.forkless();
            EventTimeline timeline = new EventTimeline();
            forkless.addListenerWithHistory(timeline); // the copies' starts too: the admin starts after them
            AppCounters counters = new AppCounters(forkless.config().copies());
            forkless.addListener(counters);
            apps.put(name, new App(name, forkless, timeline, counters, entry.settings()));
        });
        this.token = token;
        this.access = access;
        this.metrics = metrics;
        this.resources = resources;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/api/workers", readable(this::workers))
                .get("/api/workers/{id}/log", readable(this::log))
                .get("/api/events", readable(this::events))
                .get("/api/runtime", readable(this::runtime))
                .get("/api/app", readable(this::app))
                .post("/api/reload", authorized(this::reload))
                .post("/api/scale", authorized(this::scale))
                .post("/api/workers/{id}/restart", authorized(this::restart))
                .post("/api/stop", authorized(this::stop))
                .post("/api/start", authorized(this::start))
                .post("/api/upgrade", authorized(this::upgrade))
                .post("/api/metering", authorized(this::metering))
                .get("/api/shared", readable((req, res) -> withApp(req, res, a -> reply(res, shared(a).list()))))
                .get("/api/shared/{key}", readable((req, res) -> withApp(req, res, a -> reply(res, shared(a).get(key(req))))))
                .put("/api/shared/{key}", tokenOnly((req, res) -> {
                    byte[] body;
                    try {
                        body = read(req, SharedStateEndpoint.MAX_VALUE_BYTES);
                    } catch (BadRequest e) {
                        error(res, e.status, e.getMessage());
                        return;
                    }
                    withApp(req, res, a -> reply(res, shared(a).put(key(req), body)));
                }))
                .delete("/api/shared/{key}", tokenOnly((req, res) -> withApp(req, res, a -> reply(res, shared(a).delete(key(req))))))
                .get("/health/live", probe(this::live))
                .get("/health/ready", probe(this::ready))
                .get("/metrics", probe(this::metrics));
        for (String path : List.of("/api/workers", "/api/workers/{id}/log", "/api/events", "/api/runtime", "/api/app", "/health/live", "/health/ready", "/metrics")) {
            rules.any(path, (req, res) -> error(res, Status.METHOD_NOT_ALLOWED_405, "use GET"));
        }
        for (String path : List.of("/api/reload", "/api/scale", "/api/workers/{id}/restart", "/api/stop", "/api/start",
                "/api/upgrade", "/api/metering")) {
            rules.any(path, (req, res) -> error(res, Status.METHOD_NOT_ALLOWED_405, "use POST"));
        }
        rules.any("/api/shared/{key}", (req, res) -> error(res, Status.METHOD_NOT_ALLOWED_405, "use GET, PUT or DELETE"));
        rules.any("/api/shared", (req, res) -> error(res, Status.METHOD_NOT_ALLOWED_405, "use GET"));
    }

    /** The answer to a path nothing serves: after every route of the API and the dashboard. */
    static void notFound(ServerRequest req, ServerResponse res) {
        byte[] body = ("{\"error\":\"no such resource\"}").getBytes(StandardCharsets.UTF_8);
        res.status(Status.NOT_FOUND_404);
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        res.send(body);
    }

    // ---- reads ----

    // ---- which app ----

    /**
     * The app a request names with {@code ?app=NAME}, or the only one; empty when it names none (or
     * {@code all}) in a runtime of several apps: every app.
     *
     * @throws BadRequest 404 for an app the runtime does not run
     */
    private java.util.Optional<App> named(ServerRequest req) throws BadRequest {
        String name = req.query().first("app").orElse(null);
        if (name == null || name.equals("all")) {
            return apps.size() == 1 ? java.util.Optional.of(apps.values().iterator().next()) : java.util.Optional.empty();
        }
        App app = apps.get(name);
        if (app == null) {
            throw new BadRequest(Status.NOT_FOUND_404, "no app '" + abbreviate(name) + "' in this runtime (apps: "
                    + String.join(", ", apps.keySet()) + ")");
        }
        return java.util.Optional.of(app);
    }

    /** The app a request must name in a runtime of several apps (scale, describe); the answer sent when it names none. */
    private App required(ServerRequest req, ServerResponse res) {
        try {
            java.util.Optional<App> app = named(req);
            if (app.isEmpty()) {
                error(res, Status.BAD_REQUEST_400, "this runtime runs several apps (" + String.join(", ", apps.keySet())
                        + "): name one (?app=NAME; on the command line, the app after the command)");
                return null;
            }
            return app.get();
        } catch (BadRequest e) {
            error(res, e.status, e.getMessage());
            return null;
        }
    }

    /** The apps a request is for: the one it names, else all. */
    private List<App> chosen(ServerRequest req, ServerResponse res) {
        try {
            return named(req).map(List::of).orElseGet(() -> List.copyOf(apps.values()));
        } catch (BadRequest e) {
            error(res, e.status, e.getMessage());
            return null;
        }
    }

    /** Runs {@code handler} for the app named, or the first one (shared state). */
    private void withApp(ServerRequest req, ServerResponse res, java.util.function.Consumer<App> handler) {
        List<App> chosen = chosen(req, res);
        if (chosen != null) {
            handler.accept(chosen.getFirst());
        }
    }

    // ---- reads ----

    private void workers(ServerRequest req, ServerResponse res) {
        List<App> chosen = chosen(req, res);
        if (chosen != null) {
            send(res, Status.OK_200, chosen.stream().flatMap(a -> workerList(a).stream()).toList());
        }
    }

    private void events(ServerRequest req, ServerResponse res) {
        List<App> chosen = chosen(req, res);
        if (chosen != null) {
            send(res, Status.OK_200, chosen.stream().flatMap(a -> a.timeline().entries().stream()).toList());
        }
    }

    /** The last lines of one copy's output: {@code GET /api/workers/{id}/log?lines=N} (1..200, default 50). */
    private void log(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().first("id").orElse("");
        String n = req.query().first("lines").orElse(String.valueOf(DEFAULT_LOG_LINES));
        int lines;
        try {
            lines = Integer.parseInt(n.trim());
        } catch (NumberFormatException e) {
            error(res, Status.BAD_REQUEST_400, "lines must be a whole number, not '" + abbreviate(n) + "'");
            return;
        }
        if (lines < 1 || lines > MAX_LOG_LINES) {
            error(res, Status.BAD_REQUEST_400, "lines must be between 1 and " + MAX_LOG_LINES + ", not " + lines);
            return;
        }
        List<App> chosen = chosen(req, res);
        if (chosen == null) {
            return;
        }
        for (App app : chosen) {
            var tail = app.forkless().logTail(id, lines);
            if (tail.isPresent()) {
                send(res, Status.OK_200, tail.get());
                return;
            }
        }
        if (!id.equals("-") && chosen.stream().anyMatch(a -> runs(a, id))) {
            send(res, Status.OK_200, List.of()); // a copy that printed nothing yet
        } else {
            error(res, Status.NOT_FOUND_404, "no copy with id '" + abbreviate(id) + "'");
        }
    }

    private void runtime(ServerRequest req, ServerResponse res) {
        long pid = ProcessHandle.current().pid();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("pid", pid);
        String version = Forkless.class.getPackage().getImplementationVersion();
        body.put("version", version == null ? "dev" : version);
        body.put("java", Runtime.version().toString());
        body.put("uptimeMs", System.currentTimeMillis() - startedAt);
        var rss = CopyResources.rss(pid);
        body.put("residentMemoryBytes", rss.isPresent() ? rss.getAsLong() : null);
        body.put("heapUsedBytes", heap.getUsed());
        body.put("heapMaxBytes", heap.getMax() < 0 ? null : heap.getMax());
        body.put("addresses", apps.values().stream().flatMap(a -> a.forkless().addresses().stream())
                .map(a -> a.getHostString() + ":" + a.getPort()).toList());
        body.put("apps", List.copyOf(apps.keySet()));
        body.put("metering", metering().orElse(null));
        java.util.Optional<Upgrader.Status> upgrade = upgrader == null ? java.util.Optional.empty() : upgrader.status();
        body.put("upgrade", upgrade.map(u -> {
            Map<String, Object> status = new LinkedHashMap<>();
            status.put("pid", u.pid());
            status.put("state", u.state());
            status.put("reason", u.reason());
            return status;
        }).orElse(null));
        send(res, Status.OK_200, body);
    }

    /** Everything about the app and its copies ({@link AppJson}), for {@code forkless describe}. */
    private void app(ServerRequest req, ServerResponse res) {
        App app = required(req, res);
        if (app != null) {
            send(res, Status.OK_200, AppJson.of(app.forkless(), app.counters(), workerList(app)));
        }
    }

    private List<WorkerJson> workerList(App app) {
        Forkless forkless = app.forkless();
        return forkless.workers().stream().map(w -> WorkerJson.of(app.name(), w, resources, forkless.usage(w.id()))).toList();
    }

    private static boolean runs(App app, String id) {
        return app.forkless().workers().stream().map(WorkerSnapshot::id).anyMatch(id::equals);
    }

    private List<WorkerSnapshot> allWorkers() {
        return apps.values().stream().flatMap(a -> a.forkless().workers().stream()).toList();
    }

    private java.util.Optional<dev.forkless.runtime.CopyUsage> usage(String id) {
        return apps.values().stream().map(a -> a.forkless().usage(id)).flatMap(java.util.Optional::stream).findFirst();
    }

    private void live(ServerRequest req, ServerResponse res) {
        send(res, Status.OK_200, Map.of("status", "UP"));
    }

    private void ready(ServerRequest req, ServerResponse res) {
        long ready = allWorkers().stream().filter(w -> w.state() == WorkerState.READY).count();
        send(res, ready > 0 ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503,
                Map.of("status", ready > 0 ? "UP" : "DOWN", "readyCopies", ready));
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        Map<String, List<WorkerSnapshot>> byApp = new LinkedHashMap<>();
        apps.forEach((name, app) -> byApp.put(name, app.forkless().workers()));
        res.send(metrics.scrape(byApp, this::usage));
    }

    // ---- operations ----

    private void reload(ServerRequest req, ServerResponse res, JsonNode body) {
        String updateEnv = req.query().first("updateEnv").orElse(null);
        if (updateEnv == null && body.has("updateEnv")) {
            updateEnv = body.get("updateEnv").asText();
        }
        if (updateEnv != null && !updateEnv.equals("true") && !updateEnv.equals("false")) {
            error(res, Status.BAD_REQUEST_400, "updateEnv must be true or false, not '" + abbreviate(updateEnv) + "'");
            return;
        }
        if (!"true".equals(updateEnv)) {
            List<App> chosen = chosen(req, res);
            if (chosen != null) {
                operation(res, reloadAll(chosen));
            }
            return;
        }
        App app = required(req, res);
        if (app != null) {
            reloadWithNewSettings(res, app);
        }
    }

    /** Reloads the apps one after another (each a rolling reload); the outcome of all, stopping at the first failure. */
    private static CompletableFuture<OperationResult> reloadAll(List<App> chosen) {
        if (chosen.size() == 1) {
            return chosen.getFirst().forkless().reload("admin API");
        }
        CompletableFuture<OperationResult> all = CompletableFuture.completedFuture(OperationResult.done(0));
        for (App app : chosen) {
            all = all.thenCompose(before -> !before.ok() ? CompletableFuture.completedFuture(before)
                    : app.forkless().reload("admin API").thenApply(r -> r.ok()
                    ? OperationResult.done(before.replaced() + r.replaced())
                    : OperationResult.failed(before.replaced() + r.replaced(), app.name() + ": " + r.reason())));
        }
        return all;
    }

    /**
     * Waits for an operation, up to {@link #OPERATION_TIMEOUT}.
     *
     * @return its outcome, or {@code null} when it did not end (the 503 answer is sent)
     */
    private <T> T awaitOperation(ServerResponse res, CompletableFuture<T> operation) {
        try {
            return operation.get(OPERATION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error(res, Status.SERVICE_UNAVAILABLE_503, "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            error(res, Status.SERVICE_UNAVAILABLE_503, "the operation did not end: " + e);
        }
        return null;
    }

    /**
     * {@code POST /api/reload?updateEnv=true}: re-reads the settings, refuses a bad config file (400, the
     * running copies untouched), else applies what a live runtime can and reloads; the answer says what
     * changed and what needs a restart ({@code applied}, {@code notApplied}).
     */
    private void reloadWithNewSettings(ServerResponse res, App app) {
        Forkless forkless = app.forkless();
        dev.forkless.runtime.SettingsSource settings = app.settings();
        if (settings == null) {
            error(res, Status.CONFLICT_409, "this runtime has no settings to re-read (embedded without a settings source)");
            return;
        }
        dev.forkless.runtime.RuntimeSettings next;
        try {
            next = settings.read();
        } catch (IllegalArgumentException e) {
            error(res, Status.BAD_REQUEST_400, String.valueOf(e.getMessage()));
            return;
        }
        CompletableFuture<dev.forkless.runtime.SettingsReload> reload = forkless.reload("admin API --update-env", next);
        dev.forkless.runtime.SettingsReload done = awaitOperation(res, reload);
        if (done == null) {
            return;
        }
        OperationResult result = done.result();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ok", result.ok());
        body.put("replaced", result.replaced());
        body.put("reason", result.reason());
        body.put("applied", done.change().applied());
        body.put("notApplied", done.change().needsRestart());
        send(res, result.ok() ? Status.OK_200 : Status.CONFLICT_409, body);
    }

    private void scale(ServerRequest req, ServerResponse res, JsonNode body) {
        String n = req.query().first("n").orElse(null);
        if (n == null && body.has("n")) {
            JsonNode node = body.get("n");
            n = node.isIntegralNumber() || node.isTextual() ? node.asText() : node.toString();
        }
        if (n == null) {
            error(res, Status.BAD_REQUEST_400, "scale needs the number of copies: POST /api/scale?n=N");
            return;
        }
        int copies;
        try {
            copies = Integer.parseInt(n.trim());
        } catch (NumberFormatException e) {
            error(res, Status.BAD_REQUEST_400, "n must be a whole number, not '" + abbreviate(n) + "'");
            return;
        }
        try {
            dev.forkless.runtime.Limit.COPIES.check("n", copies);
        } catch (IllegalArgumentException e) {
            error(res, Status.BAD_REQUEST_400, e.getMessage());
            return;
        }
        App app = required(req, res);
        if (app != null) {
            operation(res, app.forkless().scale(copies));
        }
    }

    /** Whether the runtime meters its isolates now; empty when no app of it has a meter. */
    private java.util.Optional<Boolean> metering() {
        return apps.values().stream().map(a -> a.forkless().metering()).flatMap(java.util.Optional::stream)
                .reduce(Boolean::logicalOr);
    }

    /** Turns the metering of isolates off or on ({@code ?on=false}): the runtime's one meter, for every app. */
    private void metering(ServerRequest req, ServerResponse res, JsonNode body) {
        String on = req.query().first("on").orElse(null);
        if (on == null && body.has("on")) {
            on = body.get("on").asText();
        }
        if (on == null || !(on.equals("true") || on.equals("false"))) {
            error(res, Status.BAD_REQUEST_400, "metering needs on=true or on=false: POST /api/metering?on=false");
            return;
        }
        boolean wanted = Boolean.parseBoolean(on);
        List<Boolean> done = apps.values().stream().map(a -> a.forkless().meter(wanted))
                .flatMap(java.util.Optional::stream).toList();
        if (done.isEmpty()) {
            error(res, Status.CONFLICT_409, "no copy of this runtime is metered (process mode, --no-metering, or no "
                    + "app runs): metering is turned on and off in isolate mode with metering");
            return;
        }
        if (done.contains(false)) {
            error(res, Status.SERVICE_UNAVAILABLE_503, "the meter did not turn " + (wanted ? "on" : "off")
                    + " within 30 s (it is held up, a full heap?); it follows when it can");
            return;
        }
        send(res, Status.OK_200, Map.of("metering", wanted));
    }

    private void restart(ServerRequest req, ServerResponse res, JsonNode body) {
        String id = req.path().pathParameters().first("id").orElse("");
        List<App> chosen = chosen(req, res);
        if (chosen == null) {
            return;
        }
        App owner = id.equals("-") ? null : chosen.stream().filter(a -> runs(a, id)).findFirst().orElse(null);
        if (owner == null) {
            error(res, Status.NOT_FOUND_404, "no copy with id '" + abbreviate(id) + "'");
            return;
        }
        Forkless forkless = owner.forkless();
        operation(res, forkless.restart(id), result -> !result.ok()
                && forkless.workers().stream().map(WorkerSnapshot::id).noneMatch(id::equals));
    }

    private void stop(ServerRequest req, ServerResponse res, JsonNode body) {
        String named = req.query().first("app").orElse("all");
        if (apps.size() > 1 && !named.equals("all")) { // one app of several: the others go on
            App app = required(req, res);
            if (app != null) {
                send(res, Status.ACCEPTED_202, Map.of("stopping", true, "app", app.name()));
                app.forkless().stopAsync("admin API");
            }
            return;
        }
        send(res, Status.ACCEPTED_202, Map.of("stopping", true));
        apps.values().forEach(a -> a.forkless().stopAsync("admin API"));
    }

    /**
     * {@code POST /api/start?app=NAME}: starts an app of several again that {@code stop} stopped, or whose
     * copies all errored (200 once its copies are ready); 409 {@code "running": true} for an app that runs.
     */
    private void start(ServerRequest req, ServerResponse res, JsonNode body) {
        App app = required(req, res);
        if (app == null) {
            return;
        }
        CompletableFuture<OperationResult> started = app.forkless().startAgain();
        OperationResult now = started.getNow(null);
        if (now != null && !now.ok() && now.reason().equals(Forkless.RUNS_ALREADY)) {
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("error", "the app '" + app.name() + "' runs already (reload replaces its copies)");
            answer.put("running", true);
            send(res, Status.CONFLICT_409, answer);
            return;
        }
        operation(res, started);
    }

    /**
     * {@code POST /api/upgrade[?runtime=JAR][&java=PATH]} (or the same in the JSON body): starts a new
     * runtime JVM that takes over every socket, the admin address included; 202 {@code {"pid": N}} once its
     * process started. How it went: {@code upgrade} in {@code GET /api/runtime} here, until the new runtime
     * answers on this address instead. 400 for a bad jar or launcher, 409 while one is under way.
     */
    private void upgrade(ServerRequest req, ServerResponse res, JsonNode body) {
        if (upgrader == null) {
            error(res, Status.CONFLICT_409, "this runtime cannot be upgraded (embedded: it is not run by runtime.jar)");
            return;
        }
        java.util.Optional<java.nio.file.Path> jar;
        java.util.Optional<java.nio.file.Path> launcher;
        try {
            jar = pathParameter(req, body, "runtime");
            launcher = pathParameter(req, body, "java");
        } catch (BadRequest e) {
            error(res, e.status, e.getMessage());
            return;
        }
        long pid;
        try {
            pid = upgrader.upgrade(jar, launcher);
        } catch (IllegalArgumentException e) {
            error(res, Status.BAD_REQUEST_400, String.valueOf(e.getMessage()));
            return;
        } catch (IllegalStateException e) {
            error(res, Status.CONFLICT_409, String.valueOf(e.getMessage()));
            return;
        } catch (IOException e) {
            error(res, Status.INTERNAL_SERVER_ERROR_500, "cannot start the new runtime: " + e.getMessage());
            return;
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("pid", pid);
        answer.put("from", ProcessHandle.current().pid());
        send(res, Status.ACCEPTED_202, answer);
    }

    /** An absolute path from the query or the body; empty when neither has it. */
    private static java.util.Optional<java.nio.file.Path> pathParameter(ServerRequest req, JsonNode body, String name)
            throws BadRequest {
        String value = req.query().first(name).orElse(null);
        if (value == null && body.has(name)) {
            if (!body.get(name).isTextual()) {
                throw new BadRequest(Status.BAD_REQUEST_400, name + " must be a path (a string)");
            }
            value = body.get(name).asText();
        }
        if (value == null) {
            return java.util.Optional.empty();
        }
        if (value.isBlank() || value.length() > 4096 || value.indexOf('\0') >= 0) {
            throw new BadRequest(Status.BAD_REQUEST_400, name + " must be an absolute path, not '" + abbreviate(value) + "'");
        }
        java.nio.file.Path path;
        try {
            path = java.nio.file.Path.of(value);
        } catch (java.nio.file.InvalidPathException e) {
            throw new BadRequest(Status.BAD_REQUEST_400, name + " must be an absolute path, not '" + abbreviate(value) + "'");
        }
        if (!path.isAbsolute()) {
            throw new BadRequest(Status.BAD_REQUEST_400, name + " must be an absolute path (the runtime's working "
                    + "folder is not the client's), not '" + abbreviate(value) + "'");
        }
        return java.util.Optional.of(path.normalize());
    }

    private void operation(ServerResponse res, CompletableFuture<OperationResult> operation) {
        operation(res, operation, result -> false);
    }

    /**
     * Waits for an operation and answers with its result: 200, 409 when it failed, or 404 when
     * {@code gone} says the copy it was for no longer exists (a restart queued behind a reload that
     * replaced that copy).
     */
    private void operation(ServerResponse res, CompletableFuture<OperationResult> operation,
                           java.util.function.Predicate<OperationResult> gone) {
        OperationResult result = awaitOperation(res, operation);
        if (result == null) {
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ok", result.ok());
        body.put("replaced", result.replaced());
        body.put("reason", result.reason());
        if (gone.test(result)) {
            body.put("error", "the copy is gone: " + result.reason());
            send(res, Status.NOT_FOUND_404, body);
            return;
        }
        send(res, result.ok() ? Status.OK_200 : Status.CONFLICT_409, body);
    }

    // ---- plumbing ----

    private static SharedStateEndpoint shared(App app) {
        return new SharedStateEndpoint(app.forkless().sharedState());
    }

    private static String key(ServerRequest req) {
        return req.path().pathParameters().get("key");
    }

    private static void reply(ServerResponse res, SharedStateEndpoint.Reply reply) {
        res.status(Status.create(reply.status()));
        if (reply.contentType() != null) {
            res.header(HeaderNames.CONTENT_TYPE, reply.contentType());
        }
        if (reply.status() == 204) {
            res.send();
        } else {
            res.send(reply.body());
        }
    }

    /** A read: needs the token unless the request is local ({@link ReadAccess}). */
    private Handler readable(Handler handler) {
        return (req, res) -> {
            if (!access.mayRead(req.headers().first(HeaderNames.HOST), req.headers().first(HeaderNames.AUTHORIZATION))) {
                res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"forkless\"");
                error(res, Status.UNAUTHORIZED_401, "reading this needs the admin token (Authorization: Bearer <token>) "
                        + "unless it is asked for on loopback, as localhost or 127.0.0.1");
                return;
            }
            handler.handle(req, res);
        };
    }

    /** A health check or the metrics: open with {@code --admin-open-probes}, else a read. */
    private Handler probe(Handler handler) {
        Handler read = readable(handler);
        return (req, res) -> {
            if (access.openProbes()) {
                handler.handle(req, res);
            } else {
                read.handle(req, res);
            }
        };
    }

    /** A handler that needs the token and reads its body itself (raw, not JSON). */
    private Handler tokenOnly(Handler handler) {
        return (req, res) -> {
            if (!token.accepts(req.headers().first(HeaderNames.AUTHORIZATION))) {
                res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"forkless\"");
                error(res, Status.UNAUTHORIZED_401, "this needs the admin token: Authorization: Bearer <token>");
                return;
            }
            handler.handle(req, res);
        };
    }

    /** An operation's handler, given the request's JSON body ({@code {}} when it has none). */
    private interface Operation {
        void handle(ServerRequest req, ServerResponse res, JsonNode body);
    }

    private Handler authorized(Operation operation) {
        return (req, res) -> {
            if (!token.accepts(req.headers().first(HeaderNames.AUTHORIZATION))) {
                res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"forkless\"");
                error(res, Status.UNAUTHORIZED_401, "this needs the admin token: Authorization: Bearer <token>");
                return;
            }
            JsonNode body;
            try {
                body = body(req);
            } catch (BadRequest e) {
                error(res, e.status, e.getMessage());
                return;
            }
            operation.handle(req, res, body);
        };
    }

    /**
     * Reads a request's body, at most {@code limit} bytes: a declared longer one is refused before a byte
     * is read, a chunked one as soon as it grows past the limit.
     */
    private static byte[] read(ServerRequest req, int limit) throws BadRequest {
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        String tooLarge = "the body is larger than " + (limit % 1024 == 0 ? limit / 1024 + " KiB" : limit + " bytes");
        var declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > limit) {
            throw new BadRequest(Status.REQUEST_ENTITY_TOO_LARGE_413, tooLarge);
        }
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes(limit + 1);
        } catch (IOException | RuntimeException e) {
            if (e instanceof io.helidon.http.RequestException r && r.status().code() == 413) {
                throw new BadRequest(Status.REQUEST_ENTITY_TOO_LARGE_413, tooLarge);
            }
            String why = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
            throw new BadRequest(Status.BAD_REQUEST_400, "cannot read the body: " + abbreviate(why));
        }
        if (bytes.length > limit) {
            throw new BadRequest(Status.REQUEST_ENTITY_TOO_LARGE_413, tooLarge);
        }
        return bytes;
    }

    private JsonNode body(ServerRequest req) throws BadRequest {
        byte[] bytes = read(req, MAX_BODY);
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            return json.createObjectNode();
        }
        JsonNode node;
        try {
            node = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new BadRequest(Status.BAD_REQUEST_400, "the body is not JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new BadRequest(Status.BAD_REQUEST_400, "the body must be a JSON object");
        }
        return node;
    }

    private void send(ServerResponse res, Status status, Object body) {
        byte[] bytes;
        try {
            bytes = json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, JSON);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(bytes);
    }

    private void error(ServerResponse res, Status status, String message) {
        send(res, status, Map.of("error", message));
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** A request this API cannot take. */
    private static final class BadRequest extends Exception {
        final Status status;

        BadRequest(Status status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }
}
