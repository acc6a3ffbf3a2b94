package dev.forkless.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * Several apps in one runtime ({@code apps:} in the config file): one {@link Forkless} per app, each with its
 * own ports, supervisor and copies, joined here so that their copy ids are unique in the JVM (the console,
 * the log files and the admin API tell copies apart by id) and so that one app whose copies all errored
 * does not stop the others: the runtime ends only once no app has a serving copy left (exit 1 when a slot
 * errored), or when it is stopped. An app stopped on its own ({@code stop APP}) or whose copies all errored
 * can start again ({@link Forkless#startAgain}) while the others run.
 *
 * <pre>{@code
 * AppGroup group = new AppGroup();
 * Forkless web = Forkless.builder().app(webJar).name("web").group(group).build();
 * Forkless api = Forkless.builder().app(apiJar).name("api").group(group).build();
 * }</pre>
 */
public final class AppGroup {

    private final List<Forkless> members = new ArrayList<>();
    /** Members none of whose serving slots runs a copy any more (stopped, errored), with their exit codes. */
    private final java.util.Map<Forkless, Integer> done = new java.util.HashMap<>();
    private int lastId;
    /** The apps' one meter (JFR stream), while an app that meters runs; null: none. */
    private dev.forkless.runtime.meter.CopyMeter meter;
    private int meterUsers;
    /** Whether the next meter meters from its start: off once metering was turned off (and not on again). */
    private boolean meterFromStart = true;
    private String lastReason = "";

    /** An empty group. */
    public AppGroup() {
    }

    /**
     * The meter of the runtime's isolates, shared by its apps: one JFR stream, not one per app (each app
     * tracks its own copies, and every share is of the whole JVM's samples either way).
     */
    synchronized dev.forkless.runtime.meter.CopyMeter meter() {
        if (meter == null) {
            meter = new dev.forkless.runtime.meter.CopyMeter(meterFromStart);
        }
        meterUsers++;
        return meter;
    }

    /** Metering was turned off or on: a meter made later (an app that starts again) starts so. */
    synchronized void meterFromStart(boolean on) {
        meterFromStart = on;
    }

    /** An app that used the meter stopped: the last one closes it. */
    synchronized void releaseMeter() {
        if (--meterUsers == 0 && meter != null) {
            meter.close();
            meter = null;
        }
    }

    synchronized int nextId() {
        return ++lastId;
    }

    synchronized void join(Forkless member) {
        members.add(member);
    }

    /** A member has a ready copy again, or starts again ({@code start APP}, a scale of an errored app). */
    synchronized void serving(Forkless member) {
        done.remove(member);
    }

    /** A member has no serving copy left: once that holds for all, they all end. */
    void noSlotServes(Forkless member, String reason, int exitCode) {
        List<Forkless> ending;
        int code;
        String why;
        synchronized (this) {
            done.put(member, exitCode);
            lastReason = member.appName() + ": " + reason;
            if (!done.keySet().containsAll(members)) {
                return;
            }
            ending = List.copyOf(members);
            code = done.values().stream().mapToInt(Integer::intValue).max().orElse(0);
            why = lastReason;
        }
        ending.forEach(m -> m.end(why, code));
    }
}
