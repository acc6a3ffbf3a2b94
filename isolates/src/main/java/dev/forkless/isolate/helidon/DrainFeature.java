package dev.forkless.isolate.helidon;

import dev.forkless.isolate.Isolate;

import io.helidon.http.HeaderValues;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.HttpFeature;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.spi.ServerFeature;

import java.lang.reflect.Field;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Forkless's part of an isolate's web server: one filter on every socket's routing that counts the
 * isolate's requests and, while the isolate drains, ends each connection after its current response.
 *
 * <p>Helidon decides keep-alive from the request alone, and a handler's {@code Connection: close}
 * header does not make it close the connection. So while draining, the filter sets the header just
 * before the response is sent (the client then knows not to reuse the connection) and, once it is sent,
 * throws {@link CloseConnectionException}, Helidon's own way to close a connection after a response.
 * A keep-alive client thus moves to another isolate without a reset.
 *
 * <p>Links against any Helidon 4 (4.0 to 4.5): it uses only API present in all of them, and
 * {@code ServerResponse.beforeSend} (4.4 and later) only when the app's Helidon has it; before 4.4 the
 * header is set when the request starts while the copy already drains.
 */
public final class DrainFeature implements ServerFeature {

    static final String TYPE = "forkless-drain";

    private final String name;
    private final Isolate isolate;

    DrainFeature(String name, Isolate isolate) {
        this.name = name;
        this.isolate = isolate;
    }

    @Override
    public void setup(ServerFeatureContext context) {
        if (isolate == null) {
            return;
        }
        isolate.drainAdapterInstalled();
        boolean beforeSend = hasBeforeSend();
        Set<String> sockets = new LinkedHashSet<>(context.sockets());
        sockets.add(WebServer.DEFAULT_SOCKET_NAME);
        for (String socket : sockets) {
            if (socket.equals(WebServer.DEFAULT_SOCKET_NAME) || context.socketExists(socket)) {
                // addFeature(Supplier): the one of Helidon 4.0 (4.1 added addFeature(HttpFeature))
                Supplier<HttpFeature> filter = new Filter(isolate, beforeSend);
                context.socket(socket).httpRouting().addFeature(filter);
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String type() {
        return TYPE;
    }

    private static boolean hasBeforeSend() {
        try {
            ServerResponse.class.getMethod("beforeSend", Runnable.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /**
     * Whether a response has started streaming its entity (Helidon's own {@code streamingEntity} flag of
     * its HTTP/1 and HTTP/2 responses, in every 4.x), for the hang watchdog: a streaming response makes
     * progress of its own. Read only for requests older than the hang timeout.
     */
    static boolean streaming(Object response) {
        for (Class<?> c = response.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            try {
                Field field = c.getDeclaredField("streamingEntity");
                field.setAccessible(true);
                return field.getBoolean(response);
            } catch (NoSuchFieldException e) {
                // look further up
            } catch (ReflectiveOperationException | RuntimeException e) {
                return false;
            }
        }
        return false;
    }

    /** The filter, installed as an {@link HttpFeature} so it wraps every route of the routing. */
    private record Filter(Isolate isolate, boolean beforeSend) implements HttpFeature {

        @Override
        public void setup(HttpRouting.Builder routing) {
            routing.addFilter(this::filter);
        }

        @Override
        public HttpFeature get() {
            return this;
        }

        private void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
            isolate.requestStarted(() -> res.isSent() || streaming(res));
            try {
                if (beforeSend) {
                    res.beforeSend(() -> {
                        if (isolate.isDraining()) {
                            res.header(HeaderValues.CONNECTION_CLOSE);
                        }
                    });
                } else if (isolate.isDraining()) {
                    res.header(HeaderValues.CONNECTION_CLOSE);
                }
                chain.proceed();
            } finally {
                isolate.requestFinished();
            }
            if (isolate.isDraining() && res.isSent() && res.headers().contains(HeaderValues.CONNECTION_CLOSE)) {
                throw new CloseConnectionException("isolate " + isolate.id() + " is draining");
            }
        }
    }
}
