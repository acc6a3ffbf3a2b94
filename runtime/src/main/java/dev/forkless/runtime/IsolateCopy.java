package dev.forkless.runtime;

import dev.forkless.api.Worker;
import dev.forkless.isolate.AppJar;
import dev.forkless.isolate.CallSiteRewriter;
import dev.forkless.isolate.Isolate;
import dev.forkless.isolate.IsolateHost;
import dev.forkless.isolate.SharedSocket;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A copy that runs as an isolate in the runtime's JVM. */
final class IsolateCopy implements Copy, IsolateHost {

    private final Isolate isolate;
    private final List<String> args;
    private final SharedListeners listeners;
    private final Events events;

    IsolateCopy(String id, AppJar app, List<String> args, boolean accepting, SharedListeners listeners,
                CallSiteRewriter rewriter, Events events, Map<String, String> environment) {
        this.args = List.copyOf(args);
        this.listeners = listeners;
        this.events = events;
        this.isolate = Isolate.builder()
                .id(id)
                .mode(Worker.Mode.ISOLATE)
                .app(app)
                .host(this)
                .rewriter(rewriter)
                .accepting(accepting)
                .environment(environment)
                .build();
    }

    @Override
    public String id() {
        return isolate.id();
    }

    @Override
    public String mode() {
        return "isolate";
    }

    @Override
    public long pid() {
        return ProcessHandle.current().pid();
    }

    @Override
    public void start() {
        isolate.start(args);
    }

    @Override
    public void startAccepting() {
        isolate.startAccepting();
    }

    @Override
    public void beginDrain() {
        isolate.beginDrain();
    }

    @Override
    public int openConnections() {
        return isolate.openConnections();
    }

    @Override
    public long requests() {
        return isolate.requests();
    }

    @Override
    public String hung(Duration timeout) {
        return isolate.hung(timeout);
    }

    @Override
    public Isolate.UnloadReport unload(Duration grace) {
        return isolate.unload(grace);
    }

    // ---- IsolateHost: what the isolate asks of the runtime ----

    @Override
    public SharedSocket bind(Isolate from, SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options)
            throws IOException {
        try {
            return listeners.bind(requested, backlog, options);
        } catch (IOException e) {
            events.bindFailed(this, e);
            throw e;
        }
    }

    @Override
    public void ready(Isolate from) {
        events.ready(this);
    }

    @Override
    public void exited(Isolate from, int status) {
        events.exited(this, status);
    }

    @Override
    public void crashed(Isolate from, Thread thread, Throwable cause) {
        events.crashed(this, cause);
    }

    @Override
    public String toString() {
        return "isolate " + id();
    }
}
