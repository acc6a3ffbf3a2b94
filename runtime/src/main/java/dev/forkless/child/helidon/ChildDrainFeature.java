package dev.forkless.child.helidon;

import dev.forkless.child.ChildCopy;

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
 * The child JVM's part of a Helidon app's web server, as the isolate's drain feature: counts requests
 * and times them for the hang watchdog, and while the copy drains ends each keep-alive connection after
 * its current response ({@code Connection: close}, then Helidon's {@link CloseConnectionException}), so
 * a keep-alive client moves to another copy without a failed request.
 */
public final class ChildDrainFeature implements ServerFeature {

    static final String TYPE = "forkless-child-drain";

    private final String name;
    private final ChildCopy copy;

    ChildDrainFeature(String name, ChildCopy copy) {
        this.name = name;
        this.copy = copy;
    }

    @Override
    public void setup(ServerFeatureContext context) {
        if (copy == null) {
            return;
        }
        Set<String> sockets = new LinkedHashSet<>(context.sockets());
        sockets.add(WebServer.DEFAULT_SOCKET_NAME);
        for (String socket : sockets) {
            if (socket.equals(WebServer.DEFAULT_SOCKET_NAME) || context.socketExists(socket)) {
                context.socket(socket).httpRouting().addFeature(new Filter(copy));
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

    /** Whether the app's Helidon has {@code ServerResponse.beforeSend} (4.4 and later). */
    private static boolean hasBeforeSend() {
        try {
            io.helidon.webserver.http.ServerResponse.class.getMethod("beforeSend", Runnable.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private record Filter(ChildCopy copy, boolean beforeSend) implements HttpFeature {

        Filter(ChildCopy copy) {
            this(copy, hasBeforeSend());
        }

        @Override
        public void setup(HttpRouting.Builder routing) {
            routing.addFilter(this::filter);
        }

        @Override
        public HttpFeature get() {
            return this;
        }

        private void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
            copy.requestStarted();
            try {
                if (beforeSend) {
                    res.beforeSend(() -> {
                        if (copy.isDraining()) {
                            res.header(HeaderValues.CONNECTION_CLOSE);
                        }
                    });
                } else if (copy.isDraining()) {
                    res.header(HeaderValues.CONNECTION_CLOSE);
                }
                chain.proceed();
            } finally {
                copy.requestFinished();
            }
            if (copy.isDraining() && res.isSent() && res.headers().contains(HeaderValues.CONNECTION_CLOSE)) {
                throw new CloseConnectionException("copy " + copy.id() + " is draining");
            }
        }
    }
}
