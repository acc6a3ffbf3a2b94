package dev.forkless.runtime.admin;

import dev.forkless.runtime.Forkless;
import dev.forkless.runtime.ForklessConfig;
import dev.forkless.runtime.RestartPolicy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code GET /api/app}: everything about the app a runtime runs and its copies, as {@code forkless describe}
 * shows it: the app (name, jar, arguments, mode, copies, addresses), the settings in effect, the app's
 * environment (the values of secrets masked, {@link SecretValues}), where its logs go, how long the runtime
 * has run, its reloads and restarts, and each copy as in {@code GET /api/workers} with its instance number.
 */
final class AppJson {

    private AppJson() {
    }

    static Map<String, Object> of(Forkless forkless, AppCounters counters, List<WorkerJson> workers) {
        ForklessConfig config = forkless.config();
        RestartPolicy policy = config.restartPolicy();
        Map<String, Object> app = new LinkedHashMap<>();
        app.put("name", forkless.appName());
        app.put("jar", forkless.appJar().toAbsolutePath().normalize().toString());
        app.put("args", forkless.appArgs());
        app.put("mode", forkless.mode().toString());
        app.put("running", forkless.runs());
        app.put("copies", counters.copies());
        app.put("standby", config.standby());
        app.put("addresses", forkless.addresses().stream().map(a -> a.getHostString() + ":" + a.getPort()).toList());
        app.put("pid", ProcessHandle.current().pid());
        app.put("uptimeMs", ProcessHandle.current().info().startInstant()
                .map(s -> Math.max(0, System.currentTimeMillis() - s.toEpochMilli())).orElse(null));
        app.put("reloads", counters.reloads());
        app.put("restarts", counters.restarts());
        app.put("logs", config.logs() == null ? null : config.logs().dir().toAbsolutePath().normalize().toString());

        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("drainTimeoutMs", policy.drainTimeout().toMillis());
        settings.put("killTimeoutMs", policy.unloadGrace().toMillis());
        settings.put("readyTimeoutMs", config.readyTimeout().toMillis());
        settings.put("hangTimeoutMs", config.hangTimeout().toMillis());
        settings.put("autorestart", policy.autorestart());
        settings.put("restartBackoff", policy.fixedDelay() ? "fixed" : "exponential");
        settings.put("restartDelayMs", policy.initialDelay().toMillis());
        settings.put("maxRestartDelayMs", policy.maxDelay().toMillis());
        settings.put("minUptimeMs", policy.minUptime().toMillis());
        settings.put("maxRestarts", policy.maxRestarts());
        settings.put("stopExitCodes", policy.stopExitCodes().stream().sorted().toList());
        settings.put("cronRestart", config.cronRestart() == null ? null : config.cronRestart().expression());
        settings.put("maxMemoryBytes", config.maxMemory() == 0 ? null : config.maxMemory());
        settings.put("watch", config.watch());
        settings.put("metering", config.metering());
        app.put("settings", settings);

        Map<String, String> env = new TreeMap<>();
        config.environment().forEach((k, v) -> env.put(k, SecretValues.shown(k, v)));
        app.put("env", env);

        app.put("workers", workers.stream().map(AppJson::withInstance).toList());
        return app;
    }

    /** A copy as in {@code GET /api/workers}, and its instance number ({@code FORKLESS_INSTANCE}: slot - 1). */
    private static Map<String, Object> withInstance(WorkerJson w) {
        Map<String, Object> copy = new LinkedHashMap<>();
        copy.put("id", w.id());
        copy.put("slot", w.slot());
        copy.put("instance", w.slot().matches("\\d{1,9}") ? Integer.parseInt(w.slot()) - 1 : null);
        copy.put("mode", w.mode());
        copy.put("pid", w.pid());
        copy.put("state", w.state());
        copy.put("uptimeMs", w.uptimeMs());
        copy.put("restarts", w.restarts());
        copy.put("requests", w.requests());
        copy.put("activeConnections", w.activeConnections());
        copy.put("cpuMs", w.cpuMs());
        copy.put("memoryBytes", w.memoryBytes());
        copy.put("cpuShare", w.cpuShare());
        copy.put("cpuCores", w.cpuCores());
        copy.put("allocatedBytesPerSecond", w.allocatedBytesPerSecond());
        copy.put("keptHeapBytes", w.keptHeapBytes());
        copy.put("lastExit", w.lastExit());
        return copy;
    }
}
