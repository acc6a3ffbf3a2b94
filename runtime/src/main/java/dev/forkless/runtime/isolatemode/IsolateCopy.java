package dev.forkless.runtime.isolatemode;

import dev.forkless.runtime.Mode;
import dev.forkless.runtime.listen.SharedListeners;
import dev.forkless.runtime.state.Exchange;
import dev.forkless.runtime.supervisor.Copy;
import dev.forkless.api.Message;
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
public final class IsolateCopy implements Copy, IsolateHost {

    private final Isolate isolate;
    private final List<String> args;
    private final SharedListeners listeners;
    private final Events events;
    private final Exchange exchange;

    public IsolateCopy(String id, AppJar app, List<String> args, boolean accepting, SharedListeners listeners,
                CallSiteRewriter rewriter, Exchange exchange, Events events, Map<String, String> environment,
                String warmUp) {
        this.args = List.copyOf(args);
        this.listeners = listeners;
        this.events = events;
        this.exchange = exchange;
        this.isolate = Isolate.builder()
                .id(id)
                .mode(Worker.Mode.ISOLATE)
                .app(app)
                .host(this)
                .rewriter(rewriter)
                .accepting(accepting)
                .warmUp(warmUp)
                .environment(environment)
                .inbox(exchange.capacity(), exchange.blockWhenFull())
                .build();
    }

    @Override
    public String id() {
        return isolate.id();
    }

    @Override
    public Mode mode() {
        return Mode.ISOLATE;
    }

    @Override
    public long pid() {
        return ProcessHandle.current().pid();
    }

    @Override
    public void start() {
        exchange.attach(this);
        isolate.start(args);
    }

    /** The isolate's environment answers the number from now on: {@code System.getenv} is the isolate's. */
    @Override
    public void takeInstance(int instance) {
        isolate.putEnvironment(dev.forkless.runtime.ForklessConfig.INSTANCE_VARIABLE, String.valueOf(instance));
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
        exchange.detach(this);
        return isolate.unload(grace);
    }

    @Override
    public boolean deliver(Message message) {
        return isolate.inbox().deliver(message);
    }

    @Override
    public void sharedSnapshot(Map<String, String> all) {
        isolate.inbox().stateSnapshot(all);
    }

    @Override
    public void sharedChanged(String key, String value) {
        isolate.inbox().stateChanged(key, value);
    }

    // ---- IsolateHost: messages and shared state ----

    @Override
    public boolean message(Isolate from, Message message, boolean relay) {
        return exchange.fromCopy(this, message, relay);
    }

    @Override
    public void putShared(Isolate from, String key, String value) {
        try {
            exchange.put(key, value);
        } catch (java.io.UncheckedIOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
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
        // a Netty native transport the app insists on fails with Netty's own words: say why it is off
        Throwable reported;
        try {
            String why = dev.forkless.isolate.CopyDefaults.explain(cause);
            reported = why == null ? cause : new IllegalStateException(why, cause);
        } catch (OutOfMemoryError full) {
            reported = cause; // the error that ended the copy may leave no room to explain it
        }
        events.crashed(this, reported);
    }

    @Override
    public void outOfMemory(Isolate from, Thread thread, OutOfMemoryError error) {
        events.outOfMemory(this, thread.getName(), error.getMessage());
    }

    @Override
    public String toString() {
        return "isolate " + id();
    }
}
