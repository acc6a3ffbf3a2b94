package dev.forkless.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * What changed between the settings a runtime runs with and the ones re-read for a reload with new
 * settings, by config file key: what a live runtime applies (the copies' environment, the app's
 * arguments, child JVM options, timeouts, the restart policy, the memory limit, the cron schedule, the
 * number of copies), and what needs a restart (the mode, the admin API, the app's jar, log files, ...).
 *
 * @param applied      changed settings a live runtime takes, in the order of docs/configuration.md
 * @param needsRestart changed settings it keeps as they were until the runtime is restarted
 */
public record ConfigChange(List<String> applied, List<String> needsRestart) {

    public ConfigChange {
        applied = List.copyOf(applied);
        needsRestart = List.copyOf(needsRestart);
    }

    /** A setting of {@link ForklessConfig}: its config file key, how to read it, whether a live runtime takes it. */
    private record Part(String key, Function<ForklessConfig, Object> value, boolean live) {
    }

    private static final List<Part> PARTS = List.of(
            new Part("isolates", ForklessConfig::copies, true),
            new Part("mode", ForklessConfig::mode, false),
            new Part("standby", ForklessConfig::standby, false),
            new Part("jvmArgs", ForklessConfig::jvmArgs, true),
            new Part("readyTimeout", ForklessConfig::readyTimeout, true),
            new Part("drainTimeout", c -> c.restartPolicy().drainTimeout(), true),
            new Part("killTimeout", c -> c.restartPolicy().unloadGrace(), true),
            new Part("minUptime", c -> c.restartPolicy().minUptime(), true),
            new Part("maxRestarts", c -> c.restartPolicy().maxRestarts(), true),
            new Part("restartDelay", c -> c.restartPolicy().initialDelay(), true),
            new Part("maxRestartDelay", c -> c.restartPolicy().maxDelay(), true),
            new Part("restartBackoff", c -> c.restartPolicy().fixedDelay(), true),
            new Part("autorestart", c -> c.restartPolicy().autorestart(), true),
            new Part("stopExitCodes", c -> new TreeSet<>(c.restartPolicy().stopExitCodes()), true),
            new Part("watch", c -> List.of(c.watch(), c.watchDelay()), false),
            new Part("cronRestart", c -> c.cronRestart() == null ? "" : c.cronRestart().expression(), true),
            new Part("warmUp", c -> String.valueOf(c.warmUp()), true),
            new Part("hangTimeout", ForklessConfig::hangTimeout, false),
            new Part("maxMemory", ForklessConfig::maxMemory, true),
            new Part("metering", ForklessConfig::metering, false),
            new Part("loopChecks", ForklessConfig::loopChecks, false),
            new Part("escalate", c -> List.of(c.escalate(), c.escalateWindow()), false),
            new Part("logs", c -> String.valueOf(c.logs()), false),
            new Part("consoleEscapes", ForklessConfig::consoleEscapes, false),
            new Part("sharedState", c -> String.valueOf(c.sharedStateFile()), false),
            new Part("inbox", c -> List.of(c.inboxCapacity(), c.overflow()), false));

    /**
     * @param before the settings the runtime runs with
     * @param after  the settings re-read
     * @return what changed, applied or needing a restart
     */
    public static ConfigChange between(RuntimeSettings before, RuntimeSettings after) {
        List<String> applied = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        Map<String, String> envBefore = before.config().environment();
        Map<String, String> envAfter = after.config().environment();
        boolean portMoved = !ListenAddress.inArgs(before.args()).equals(ListenAddress.inArgs(after.args()))
                || !ListenAddress.inEnvironment(envBefore).equals(ListenAddress.inEnvironment(envAfter));
        if (!withoutAddress(envBefore).equals(withoutAddress(envAfter))) {
            applied.add("env");
        }
        if (!before.args().equals(after.args())) {
            (ListenAddress.inArgs(before.args()).equals(ListenAddress.inArgs(after.args())) ? applied : restart)
                    .add("args");
        }
        if (portMoved) {
            restart.add(0, "port");
        }
        for (Part part : PARTS) {
            if (!Objects.equals(part.value().apply(before.config()), part.value().apply(after.config()))) {
                (part.live() ? applied : restart).add(part.key());
            }
        }
        for (String key : new TreeSet<>(union(before.fixed(), after.fixed()))) {
            if (!Objects.equals(before.fixed().get(key), after.fixed().get(key))) {
                restart.add(key);
            }
        }
        return new ConfigChange(applied, restart);
    }

    private static java.util.Set<String> union(Map<String, String> a, Map<String, String> b) {
        java.util.Set<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        return keys;
    }

    private static Map<String, String> withoutAddress(Map<String, String> environment) {
        Map<String, String> rest = new java.util.HashMap<>(environment);
        rest.keySet().removeAll(ListenAddress.VARIABLES);
        return rest;
    }

    /**
     * The settings a live runtime runs with after this change: {@code after}'s live settings, {@code before}'s
     * others (the app's arguments stay as they were when the port or host in them changed; the port and
     * host variables stay as they were).
     *
     * @param before what it runs with
     * @param after  what was re-read
     * @return the settings to run with
     */
    public static RuntimeSettings live(RuntimeSettings before, RuntimeSettings after) {
        Map<String, String> environment = withoutAddress(after.config().environment());
        environment.putAll(ListenAddress.inEnvironment(before.config().environment()));
        List<String> args = ListenAddress.inArgs(before.args()).equals(ListenAddress.inArgs(after.args()))
                ? after.args() : before.args();
        return new RuntimeSettings(live(before.config(), after.config()).withEnvironment(environment), args,
                before.fixed());
    }

    /**
     * The settings of {@link ForklessConfig} a live runtime takes: {@code after}'s live ones, {@code before}'s others.
     *
     * @param before what it runs with
     * @param after  what was re-read
     * @return the settings to run with
     */
    static ForklessConfig live(ForklessConfig before, ForklessConfig after) {
        return before.withCopies(after.copies())
                .withJvmArgs(after.jvmArgs())
                .withReadyTimeout(after.readyTimeout())
                .withRestartPolicy(after.restartPolicy())
                .withCronRestart(after.cronRestart())
                .withWarmUp(after.warmUp())
                .withMaxMemory(after.maxMemory())
                .withEnvironment(after.environment());
    }

    /** @return {@code not applied (needs a restart): mode, admin}, or empty when everything changed is applied */
    public String notAppliedText() {
        return needsRestart.isEmpty() ? "" : "not applied (needs a restart): " + String.join(", ", needsRestart);
    }
}
