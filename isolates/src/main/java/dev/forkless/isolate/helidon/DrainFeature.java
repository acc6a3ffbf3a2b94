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
import io.helidon.webserver.spi.ServerFeature;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Forkless's part of an isolate's web server: one filter on every socket's routing that counts the
 * isolate's requests and, while the isolate drains, ends each connection after its current response.
 *
 * <p>Helidon decides keep-alive from the request alone, and a handler's {@code Connection: close}
 * header does not make it close the connection. So while draining, the filter sets the header just
 * before the response is sent (the client then knows not to reuse the connection) and, once it is sent,
 * throws {@link CloseConnectionException}, Helidon's own way to close a connection after a response.
 * A keep-alive client thus moves to another isolate without a reset.
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
        Set<String> sockets = new LinkedHashSet<>(context.sockets());
        sockets.add(WebServer.DEFAULT_SOCKET_NAME);
        for (String socket : sockets) {
            if (socket.equals(WebServer.DEFAULT_SOCKET_NAME) || context.socketExists(socket)) {
                context.socket(socket).httpRouting().addFeature(new Filter(isolate));
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

    /** The filter, installed as an {@link HttpFeature} so it wraps every route of the routing. */
    private record Filter(Isolate isolate) implements HttpFeature {

        @Override
        public void setup(HttpRouting.Builder routing) {
            routing.addFilter(this::filter);
        }

        private void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
            isolate.requestStarted();
            try {
                res.beforeSend(() -> {
                    if (isolate.isDraining()) {
                        res.header(HeaderValues.CONNECTION_CLOSE);
                    }
                });
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
