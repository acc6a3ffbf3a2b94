package dev.forkless.runtime.supervisor;

import dev.forkless.api.Message;
import dev.forkless.isolate.BadAppException;
import dev.forkless.isolate.Isolate;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** A copy with no app behind it: the test says when it is ready, crashes, exits or hangs. */
final class FakeCopy implements Copy {

    final String id;
    final Events events;
    boolean accepting;
    boolean started;
    boolean draining;
    boolean unloaded;
    int openConnections;
    /** Whether {@link #openConnections} is known for a draining copy (a child JVM's comes later). */
    boolean drainCounted = true;
    String hung;
    String failStart;
    /** What {@link #beginDrain} throws (an isolate's reach into its app's server that fails), or null. */
    RuntimeException failDrain;
    /** What {@link #openConnections} throws, or null. */
    RuntimeException failCount;
    /** Its instance number: given at creation, or taken when promoted; empty for a standby. */
    java.util.OptionalInt instance;

    FakeCopy(String id, java.util.OptionalInt instance, boolean accepting, Events events) {
        this.id = id;
        this.instance = instance;
        this.accepting = accepting;
        this.events = events;
    }

    @Override
    public void takeInstance(int instance) {
        assertFalse(accepting, "the number comes before the connections");
        this.instance = java.util.OptionalInt.of(instance);
    }

    void becomeReady() {
        events.ready(this);
    }

    void crash() {
        events.crashed(this, new IllegalStateException("boom in " + id));
    }

    void exit(int status) {
        events.exited(this, status);
    }

    void failToBind() {
        events.bindFailed(this, new IOException("address in use"));
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public dev.forkless.runtime.Mode mode() {
        return dev.forkless.runtime.Mode.ISOLATE;
    }

    @Override
    public long pid() {
        return 0;
    }

    @Override
    public void start() {
        if (failStart != null) {
            throw new BadAppException(failStart);
        }
        started = true;
    }

    @Override
    public void startAccepting() {
        accepting = true;
    }

    @Override
    public void beginDrain() {
        if (failDrain != null) {
            throw failDrain;
        }
        accepting = false;
        draining = true;
    }

    @Override
    public int openConnections() {
        if (failCount != null) {
            throw failCount;
        }
        return openConnections;
    }

    @Override
    public boolean drainCounted() {
        return drainCounted;
    }

    @Override
    public long requests() {
        return 0;
    }

    @Override
    public String hung(Duration timeout) {
        return hung;
    }

    @Override
    public Isolate.UnloadReport unload(Duration grace) {
        unloaded = true;
        return new Isolate.UnloadReport(openConnections, java.util.List.of());
    }

    @Override
    public boolean deliver(Message message) {
        return false;
    }

    @Override
    public void sharedSnapshot(Map<String, String> all) {
    }

    @Override
    public void sharedChanged(String key, String value) {
    }

    @Override
    public String toString() {
        return "copy " + id;
    }
}
