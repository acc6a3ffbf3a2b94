package dev.forkless.runtime;

import dev.forkless.runtime.log.LogSettings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every setting of a Forkless runtime, immutable, each default written once: in {@link #DEFAULTS} (and,
 * for the restart policy and the log files, in the records it holds: {@link RestartPolicy#DEFAULT},
 * {@link LogSettings#in}). The embedding {@link Forkless.Builder} builds one; the command line and the
 * config file produce one (their defaults shown in {@code --help} and docs/configuration.md are read from
 * {@link #DEFAULTS}, and a test holds the docs to it); the runtime reads it. Every value is checked against
 * its {@link Limit} when the record is made: an {@link IllegalArgumentException} naming the range.
 *
 * <p>What is no setting stays on the builder: the app and its arguments, event listeners and message
 * handlers. The admin API's settings are {@code AdminServer}'s (its default address
 * {@code AdminAddress.DEFAULT}).
 *
 * @param copies          serving copies ({@link Limit#COPIES}; default {@link #maxCopies()}, the CLI's {@code max})
 * @param standby         warm standbys ({@link Limit#STANDBY}; default 1)
 * @param mode            isolates in this JVM (default) or child JVMs
 * @param jvmArgs         extra options of each child JVM in process mode (default none)
 * @param readyTimeout    when a copy started by a reload, restart or scale is slow (default 60 s; waited for
 *                        up to 10 times this)
 * @param restartPolicy   back-off, crash-loop guard, drain timeout ({@link RestartPolicy#DEFAULT})
 * @param watch           whether to reload when the app's jars change (default off)
 * @param watchDelay      quiet time after a change before {@code watch} reloads (default 1 s)
 * @param hangTimeout     the hang watchdog's timeout; zero turns it off (default 10 s)
 * @param maxMemory       the memory guard's limit in bytes; 0: no guard (default)
 * @param loopChecks      whether app loops get a cancellation check (default on)
 * @param metering        whether each isolate's CPU and memory are metered (default on)
 * @param escalate        whether a leak of threads escalates to process mode (default off; isolate mode only)
 * @param escalateWindow  how long {@code escalate} watches the runtime's CPU (default 10 s)
 * @param logs            the log files; null: the console only (default)
 * @param consoleEscapes  whether copies' escape sequences reach the console as they are (default off)
 * @param sharedStateFile the shared state's file; null: in memory only (default)
 * @param inboxCapacity   messages an inbox holds ({@link Limit#INBOX}; default 1024)
 * @param overflow        what a send to a full inbox does (default {@link Overflow#BLOCK})
 * @param environment     variables the app sees on top of the runtime's own (default none)
 * @param cronRestart     when to reload every copy, as {@code reload} does; null: never (default)
 * @param warmUp          what a standby requests of itself until it is promoted ({@code GET} this path);
 *                        null: nothing (default {@code /})
 */
public record ForklessConfig(int copies, int standby, Mode mode, List<String> jvmArgs, Duration readyTimeout,
                             RestartPolicy restartPolicy, boolean watch, Duration watchDelay, Duration hangTimeout,
                             long maxMemory, boolean loopChecks, boolean metering, boolean escalate,
                             Duration escalateWindow, LogSettings logs, boolean consoleEscapes, Path sharedStateFile,
                             int inboxCapacity, Overflow overflow, Map<String, String> environment,
                             CronSchedule cronRestart, String warmUp) {

    /** The defaults, of the builder, the command line and the config file alike. */
    public static final ForklessConfig DEFAULTS = new ForklessConfig(maxCopies(), 1, Mode.ISOLATE, List.of(),
            Duration.ofSeconds(60), RestartPolicy.DEFAULT, false, Duration.ofSeconds(1), Duration.ofSeconds(10), 0,
            true, true, false, Duration.ofSeconds(10), null, false, null, 1024, Overflow.BLOCK, Map.of(), null, "/");

    /** The variable holding a copy's instance number, {@code 0..n-1}, kept by its replacements. */
    public static final String INSTANCE_VARIABLE = "FORKLESS_INSTANCE";

    /**
     * Checks every value against its {@link Limit}.
     *
     * @throws IllegalArgumentException naming the value and its range
     * @throws NullPointerException     for a missing value that has no "none"
     */
    public ForklessConfig {
        Limit.COPIES.check("copies", copies);
        Limit.STANDBY.check("standby", standby);
        Objects.requireNonNull(mode, "mode");
        jvmArgs = List.copyOf(jvmArgs);
        Limit.READY_TIMEOUT.check("ready timeout", readyTimeout);
        check(Objects.requireNonNull(restartPolicy, "restartPolicy"));
        Limit.WATCH_DELAY.check("watch delay", watchDelay);
        Limit.HANG_TIMEOUT.check("hang timeout", hangTimeout);
        if (maxMemory != 0) {
            Limit.MAX_MEMORY.check("max memory", maxMemory);
        }
        Limit.ESCALATE_WINDOW.check("escalate window", escalateWindow);
        Limit.INBOX.check("inbox capacity", inboxCapacity);
        Objects.requireNonNull(overflow, "overflow");
        environment = Map.copyOf(environment);
        if (warmUp != null && !isWarmUpPath(warmUp)) {
            throw new IllegalArgumentException("warm-up path must start with / and hold no space or control "
                    + "character, at most 200 characters, not '" + warmUp + "'");
        }
    }

    /** @return whether a standby may request {@code path} of itself: an origin-form path and query */
    static boolean isWarmUpPath(String path) {
        return path.startsWith("/") && path.length() <= 200 && path.chars().allMatch(c -> c > 0x20 && c < 0x7f);
    }

    /** @param path what a standby requests of itself until promoted; null: nothing @return a copy with it */
    public ForklessConfig withWarmUp(String path) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, path);
    }

    private static void check(RestartPolicy policy) {
        Limit.RESTART_DELAY.check("restart delay", policy.initialDelay());
        Limit.MAX_RESTART_DELAY.check("max restart delay", policy.maxDelay());
        Limit.MAX_RESTART_DELAY.check("reset after", policy.resetAfter());
        Limit.MIN_UPTIME.check("min uptime", policy.minUptime());
        Limit.MAX_RESTARTS.check("max restarts", policy.maxRestarts());
        Limit.DRAIN_TIMEOUT.check("drain timeout", policy.drainTimeout());
        Limit.DRAIN_TIMEOUT.check("kill timeout", policy.unloadGrace());
        if (!(policy.multiplier() <= 100)) {
            throw new IllegalArgumentException("restart delay multiplier must be between 1 and 100, not "
                    + policy.multiplier());
        }
    }

    /** @return one copy per available processor, at most {@link Limit#COPIES}'s largest: the default */
    public static int maxCopies() {
        return (int) Math.min(Runtime.getRuntime().availableProcessors(), Limit.COPIES.max());
    }

    /** @param copies serving copies @return a copy with them */
    public ForklessConfig withCopies(int copies) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param standby warm standbys @return a copy with them */
    public ForklessConfig withStandby(int standby) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param mode how copies run @return a copy with it */
    public ForklessConfig withMode(Mode mode) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param jvmArgs the child JVMs' extra options @return a copy with them */
    public ForklessConfig withJvmArgs(List<String> jvmArgs) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param readyTimeout the ready timeout @return a copy with it */
    public ForklessConfig withReadyTimeout(Duration readyTimeout) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param restartPolicy the restart policy @return a copy with it */
    public ForklessConfig withRestartPolicy(RestartPolicy restartPolicy) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param watch whether to reload on a change @param watchDelay the quiet time first @return a copy with them */
    public ForklessConfig withWatch(boolean watch, Duration watchDelay) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param hangTimeout the hang timeout, zero for none @return a copy with it */
    public ForklessConfig withHangTimeout(Duration hangTimeout) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param maxMemory the memory guard's limit, 0 for none @return a copy with it */
    public ForklessConfig withMaxMemory(long maxMemory) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param loopChecks whether loops get cancellation checks @return a copy with it */
    public ForklessConfig withLoopChecks(boolean loopChecks) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param metering whether isolates are metered @return a copy with it */
    public ForklessConfig withMetering(boolean metering) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param escalate whether to escalate @param escalateWindow how long the CPU is watched @return a copy with them */
    public ForklessConfig withEscalate(boolean escalate, Duration escalateWindow) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param logs the log files, null for the console only @return a copy with them */
    public ForklessConfig withLogs(LogSettings logs) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param consoleEscapes whether escape sequences reach the console @return a copy with it */
    public ForklessConfig withConsoleEscapes(boolean consoleEscapes) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param sharedStateFile the shared state's file, null for memory only @return a copy with it */
    public ForklessConfig withSharedStateFile(Path sharedStateFile) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param inboxCapacity messages an inbox holds @param overflow when it is full @return a copy with them */
    public ForklessConfig withInbox(int inboxCapacity, Overflow overflow) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param environment variables for the app @return a copy with them */
    public ForklessConfig withEnvironment(Map<String, String> environment) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** @param cronRestart when to reload every copy, null for never @return a copy with it */
    public ForklessConfig withCronRestart(CronSchedule cronRestart) {
        return new ForklessConfig(copies, standby, mode, jvmArgs, readyTimeout, restartPolicy, watch, watchDelay,
                hangTimeout, maxMemory, loopChecks, metering, escalate, escalateWindow, logs, consoleEscapes,
                sharedStateFile, inboxCapacity, overflow, environment, cronRestart, warmUp);
    }

    /** The child JVMs' options: the user's, and what the runtime's settings mean for a child. */
    List<String> childJvmArgs() {
        List<String> all = new ArrayList<>(jvmArgs);
        all.add("-D" + dev.forkless.child.ChildAgent.INBOX_PROPERTY + "=" + inboxCapacity + ":"
                + (overflow == Overflow.BLOCK ? "block" : "drop"));
        return List.copyOf(all);
    }

    /**
     * The environment of one copy: with {@code whole}, the runtime's own overlaid with
     * {@link #environment}, the copy's id and its instance number; without, only what to add to the
     * runtime's own. A standby has no instance number yet: it has no {@code FORKLESS_INSTANCE}.
     */
    Map<String, String> environmentOf(String id, java.util.OptionalInt instance, boolean whole) {
        Map<String, String> env = new HashMap<>(whole ? System.getenv() : Map.of());
        env.putAll(environment);
        env.remove(INSTANCE_VARIABLE); // the runtime's own or a configured one would lie about the slot
        env.put("FORKLESS_WORKER_ID", id);
        instance.ifPresent(n -> env.put(INSTANCE_VARIABLE, String.valueOf(n)));
        return env;
    }

}
