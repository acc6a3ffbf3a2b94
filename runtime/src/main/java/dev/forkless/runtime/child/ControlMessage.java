package dev.forkless.runtime.child;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One message on the control channel between the runtime and a child JVM of process mode: one record
 * per message, {@link ToRuntime} (what a child sends) or {@link ToChild} (what the runtime sends), so each
 * side switches over exactly what it can receive. {@link ControlCodec} alone knows how a message is
 * written on the wire. Internal to Forkless.
 */
public sealed interface ControlMessage {

    /** What a child sends to the runtime. */
    sealed interface ToRuntime extends ControlMessage {
    }

    /** What the runtime sends to a child. */
    sealed interface ToChild extends ControlMessage {
    }

    // ---- child to runtime ----

    /**
     * The child connected; it proves it was started by this runtime. Always the first message.
     *
     * @param token the secret the runtime gave the child
     * @param pid   the child's process id
     */
    record Hello(String token, long pid) implements ToRuntime {
        public Hello {
            Objects.requireNonNull(token, "token");
        }
    }

    /** The app's main runs. */
    record Started() implements ToRuntime {
    }

    /** @param reason why the app could not be started */
    record BadApp(String reason) implements ToRuntime {
        public BadApp {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * The app binds an address: the runtime answers {@link Bound} or {@link BindFailed} with the same
     * {@code request}.
     *
     * @param request the request's id, unique in the child
     * @param host    the address to bind (an IP address, or a host name)
     * @param port    the port (0: any)
     * @param backlog the backlog the app asked for
     * @param options the socket options the app set, by name ({@code SO_RCVBUF=65536})
     */
    record Bind(String request, String host, int port, int backlog, Map<String, String> options) implements ToRuntime {
        public Bind {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(host, "host");
            options = Map.copyOf(options);
        }
    }

    /** The app is ready. */
    record Ready() implements ToRuntime {
    }

    /**
     * The copy's figures, for the watchdog and the drain.
     *
     * @param openConnections     connections open now
     * @param requests            requests served since the start
     * @param oldestRequestMillis how long the oldest request in flight has run (0: none)
     * @param acceptorAwayMillis  how long an acceptor has not come back for a connection (0: none)
     */
    record Stats(int openConnections, long requests, long oldestRequestMillis, long acceptorAwayMillis)
            implements ToRuntime {
    }

    /**
     * The child drains: it takes no connection any more, and the {@link Stats} sent just before count every
     * connection it took (the runtime trusts a draining child's count only from then on).
     */
    record Draining() implements ToRuntime {
    }

    /** @param status the app's exit status */
    record Exited(int status) implements ToRuntime {
    }

    /**
     * The app crashed (an uncaught exception).
     *
     * @param cause      the exception, as text
     * @param stackTrace its stack trace
     */
    record Crashed(String cause, String stackTrace) implements ToRuntime {
        public Crashed {
            Objects.requireNonNull(cause, "cause");
            Objects.requireNonNull(stackTrace, "stackTrace");
        }
    }

    /**
     * The app was unloaded; the child exits next.
     *
     * @param forcedConnections connections that were still open and were closed
     * @param leftoverThreads   threads of the app still running
     */
    record Unloaded(int forcedConnections, List<String> leftoverThreads) implements ToRuntime {
        public Unloaded {
            leftoverThreads = List.copyOf(leftoverThreads);
        }
    }

    /**
     * The app changes the shared state: the runtime answers {@link PutDone} with the same {@code request}.
     *
     * @param request the request's id, unique in the child
     * @param key     the key
     * @param value   the value, or {@code null} to remove the key
     */
    record Put(String request, String key, String value) implements ToRuntime {
        public Put {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(key, "key");
        }
    }

    // ---- runtime to child ----

    /** @param request the {@link Bind} answered; the listening socket's descriptor comes with it */
    record Bound(String request) implements ToChild {
        public Bound {
            Objects.requireNonNull(request, "request");
        }
    }

    /**
     * @param request the {@link Bind} answered
     * @param reason  why the address could not be bound
     */
    record BindFailed(String request, String reason) implements ToChild {
        public BindFailed {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** Take connections. */
    record Accept() implements ToChild {
    }

    /**
     * A standby took over a serving slot: its instance number, for {@code Worker.instance()} (the child's
     * environment, fixed at its start, has no {@code FORKLESS_INSTANCE}). Sent before {@link Accept}.
     *
     * @param number the slot's instance number, {@code 0..n-1}
     */
    record Instance(int number) implements ToChild {
    }

    /** Stop taking connections; close connections after their current response. */
    record Drain() implements ToChild {
    }

    /** @param graceMillis how long the app's shutdown may take before the child halts */
    record Unload(long graceMillis) implements ToChild {
    }

    /** @param state the whole shared state, sent once before the app starts */
    record Snapshot(Map<String, String> state) implements ToChild {
        public Snapshot {
            state = Map.copyOf(state);
        }
    }

    /**
     * One key of the shared state changed.
     *
     * @param key   the key
     * @param value its value, or {@code null}: removed
     */
    record State(String key, String value) implements ToChild {
        public State {
            Objects.requireNonNull(key, "key");
        }
    }

    /**
     * @param request the {@link Put} answered
     * @param error   why the change was not taken, or {@code null}: it was
     */
    record PutDone(String request, String error) implements ToChild {
        public PutDone {
            Objects.requireNonNull(request, "request");
        }
    }

    // ---- both ways ----

    /**
     * A message of the app. Its payload is a string so that the child side needs no class of the app's
     * API (the app may bring its own copy of it).
     *
     * @param binary  whether the payload is base64 bytes (else text)
     * @param payload the text, or the bytes in base64
     * @param relay   from a child only: the runtime passes it on to every copy
     */
    record AppMessage(boolean binary, String payload, boolean relay) implements ToRuntime, ToChild {
        public AppMessage {
            Objects.requireNonNull(payload, "payload");
        }

        /**
         * @param message an app message
         * @param relay   whether the runtime passes it on to every copy
         * @return it as a control message
         */
        public static AppMessage of(dev.forkless.api.Message message, boolean relay) {
            return message.isText() ? new AppMessage(false, message.text(), relay)
                    : new AppMessage(true, Base64.getEncoder().encodeToString(message.bytes()), relay);
        }

        /** @return the app message (runtime side: the child side keeps to JDK types) */
        public dev.forkless.api.Message message() {
            return binary ? dev.forkless.api.Message.of(Base64.getDecoder().decode(payload))
                    : dev.forkless.api.Message.of(payload);
        }
    }
}
