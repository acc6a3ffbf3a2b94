package dev.forkless.isolate;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Turns keep-alive off in a draining copy's web servers, through each server's own setting, so that every
 * connection the copy holds ends after its next response, which says {@code Connection: close}: the
 * client sends its next request on a new connection, which only live copies accept. Nothing is closed
 * under a client (closing an idle keep-alive connection races the client's next request). What the
 * Helidon drain adapter does for Helidon, for the servers below, found through the copy's threads and
 * connections (the app is not changed; nothing is added per request until the drain):
 * <ul>
 *   <li>Tomcat (Spring Boot's default): the endpoint of each {@code Acceptor} thread gets
 *       {@code maxKeepAliveRequests = 1}, which Tomcat reads for each request it parses.</li>
 *   <li>Jetty 10 to 12 (Javalin, Spring Boot on Jetty): the {@code HttpConfiguration} of each connection's
 *       {@code HttpConnection}, reached through the connection's selection key, gets
 *       {@code persistentConnectionsEnabled = false}, read for each request.</li>
 *   <li>Netty 4.1 and 4.2 on NIO (plain Netty, Reactor Netty, Vert.x, Micronaut, Quarkus): each connection's
 *       pipeline, reached through its selection key, gets a handler after its HTTP/1 response encoder that
 *       sets {@code Connection: close} on each response.</li>
 *   <li>The JDK's {@code com.sun.net.httpserver}: each context of the server of each
 *       {@code HTTP-Dispatcher} thread gets a filter that sets {@code Connection: close}.</li>
 *   <li>Undertow 2 (XNIO on NIO): each connection's {@code HttpServerConnection}, reached through its
 *       selection key, gets its root handler wrapped in one that marks each exchange not persistent (its
 *       response then says {@code Connection: close}); Undertow reads no setting per request that could be
 *       changed once it runs (its options are an immutable map), so the connection's own handler is
 *       swapped.</li>
 * </ul>
 * Needs {@code --add-opens java.base/java.lang} (a thread's task), {@code java.base/java.nio.channels.spi}
 * (a channel's keys) and {@code jdk.httpserver/sun.net.httpserver}: the runtime jar's manifest has them,
 * and a child's agent opens them to itself.
 */
public final class KeepAliveOff {

    private static final System.Logger LOG = System.getLogger("forkless.isolate");

    private KeepAliveOff() {
    }

    /** How long after the drain's start the connections are looked at once more. */
    private static final long AGAIN_MILLIS = 200;

    /**
     * Turns keep-alive off now ({@link #in}) and once more {@value #AGAIN_MILLIS} ms later, for a connection
     * the copy accepted just before its drain began that its server had not registered yet (Netty and Jetty
     * register an accepted connection with a selector on another thread).
     *
     * @param threads     the copy's live threads, asked each time
     * @param connections the copy's open connections, asked each time
     * @return the servers found the first time
     */
    public static List<String> nowAndSoon(java.util.function.Supplier<List<Thread>> threads,
                                          java.util.function.Supplier<List<SocketChannel>> connections) {
        List<String> servers = in(threads.get(), connections.get());
        if (!servers.isEmpty()) {
            Thread.ofPlatform().daemon(true).name("forkless-keep-alive-off").start(() -> {
                try {
                    Thread.sleep(AGAIN_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                in(threads.get(), connections.get());
            });
        }
        return servers;
    }

    /**
     * Turns keep-alive off in every server it knows among the copy's threads and connections; doing it
     * again changes nothing.
     *
     * @param threads     the copy's live threads
     * @param connections the connections the copy accepted that are still open
     * @return the servers it turned keep-alive off in ("Tomcat", "Jetty", "Netty", "JDK HttpServer"), empty if none
     */
    public static List<String> in(Collection<Thread> threads, Collection<SocketChannel> connections) {
        Set<Object> done = Collections.newSetFromMap(new IdentityHashMap<>());
        List<String> servers = new ArrayList<>();
        for (Thread thread : threads) {
            Object task = task(thread);
            if (task == null) {
                continue;
            }
            String type = task.getClass().getName();
            try {
                if (type.equals("org.apache.tomcat.util.net.Acceptor")) {
                    Object endpoint = field(task, task.getClass(), "endpoint");
                    if (done.add(endpoint)) {
                        endpoint.getClass().getMethod("setMaxKeepAliveRequests", int.class).invoke(endpoint, 1);
                        servers.add("Tomcat");
                    }
                } else if (type.equals("sun.net.httpserver.ServerImpl$Dispatcher")) {
                    Object server = field(task, task.getClass(), "this$0");
                    if (done.add(server)) {
                        JdkHttpServer.closeAfterEachExchange(server);
                        servers.add("JDK HttpServer");
                    }
                }
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, () -> "cannot turn keep-alive off in the server of thread "
                        + thread.getName() + ": " + e);
            }
        }
        for (SocketChannel connection : connections) {
            for (Object attachment : attachments(connection)) {
                String type = attachment.getClass().getName();
                try {
                    if (type.startsWith("org.eclipse.jetty.")) {
                        Object config = Jetty.configuration(attachment);
                        if (config != null && done.add(config)) {
                            config.getClass().getMethod("setPersistentConnectionsEnabled", boolean.class).invoke(config, false);
                            servers.add("Jetty");
                        }
                    } else if (type.equals("org.xnio.nio.NioSocketConduit")) {
                        Object http = Undertow.connection(attachment);
                        if (http != null && done.add(http) && Undertow.closeAfterEachResponse(http)
                                && done.add(Undertow.class)) {
                            servers.add("Undertow");
                        }
                    } else if (type.startsWith("io.netty.")) {
                        Object channel = Netty.channel(attachment);
                        if (channel != null && done.add(channel) && Netty.closeAfterEachResponse(channel)
                                && done.add(Netty.class)) {
                            servers.add("Netty");
                        }
                    }
                } catch (ReflectiveOperationException | RuntimeException e) {
                    Throwable cause = e instanceof java.lang.reflect.InvocationTargetException t ? t.getCause() : e;
                    // a connection that closes meanwhile (its pipeline emptied) needs nothing: not worth a warning
                    System.Logger.Level level = connection.isOpen() ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG;
                    LOG.log(level, () -> "cannot turn keep-alive off in the server of a " + type + ": " + cause);
                }
            }
        }
        return List.copyOf(servers);
    }

    /** The {@code Runnable} a platform thread was started with, or {@code null}. */
    private static Object task(Thread thread) {
        try {
            Object holder = field(thread, Thread.class, "holder");
            return holder == null ? null : field(holder, holder.getClass(), "task");
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** The attachments of the selection keys a connection is registered with (its server's state). */
    private static List<Object> attachments(SocketChannel connection) {
        try {
            Object keys = field(connection, java.nio.channels.spi.AbstractSelectableChannel.class, "keys");
            List<Object> found = new ArrayList<>();
            if (keys instanceof SelectionKey[] all) {
                for (SelectionKey key : all) {
                    Object attachment = key == null ? null : key.attachment();
                    if (attachment != null) {
                        found.add(attachment);
                    }
                }
            }
            return found;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return List.of();
        }
    }

    private static Object field(Object target, Class<?> declaring, String name) throws ReflectiveOperationException {
        Field field = declaring.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(target);
    }

    /** Loaded only when the copy runs a JDK HttpServer. */
    private static final class JdkHttpServer {

        static void closeAfterEachExchange(Object server) throws ReflectiveOperationException {
            Object contexts = field(server, server.getClass(), "contexts");
            Object list = field(contexts, contexts.getClass(), "list");
            List<com.sun.net.httpserver.HttpContext> all = new ArrayList<>();
            synchronized (contexts) {
                for (Object context : (Collection<?>) list) {
                    all.add((com.sun.net.httpserver.HttpContext) context);
                }
            }
            for (com.sun.net.httpserver.HttpContext context : all) {
                if (context.getFilters().stream().noneMatch(ConnectionClose.class::isInstance)) {
                    context.getFilters().addFirst(new ConnectionClose());
                }
            }
        }
    }

    /** Undertow 2: a connection's XNIO conduit, its stream connection, its read listener, its HTTP/1 connection. */
    private static final class Undertow {

        private static final String HTTP_CONNECTION = "io.undertow.server.protocol.http.HttpServerConnection";

        static Object connection(Object conduit) throws ReflectiveOperationException {
            Object stream = field(conduit, conduit.getClass(), "connection");
            Class<?> streamType = superclassNamed(stream == null ? null : stream.getClass(), "org.xnio.StreamConnection");
            if (streamType == null) {
                return null;
            }
            Object source = field(stream, streamType, "sourceChannel");
            if (source == null) {
                return null;
            }
            Object listener = field(source, source.getClass(), "readListener");
            if (listener == null || !listener.getClass().getName().equals("io.undertow.server.protocol.http.HttpReadListener")) {
                return null;
            }
            Object http = field(listener, listener.getClass(), "connection");
            return http != null && http.getClass().getName().equals(HTTP_CONNECTION) ? http : null;
        }

        /** Wraps the connection's root handler: each exchange is marked not persistent before the app sees it. */
        static boolean closeAfterEachResponse(Object http) throws ReflectiveOperationException {
            Class<?> owner = superclassNamed(http.getClass(), "io.undertow.server.AbstractServerConnection");
            if (owner == null) {
                return false;
            }
            Field root = owner.getDeclaredField("rootHandler");
            root.setAccessible(true);
            Object handler = root.get(http);
            if (handler == null || Proxy.isProxyClass(handler.getClass())) {
                return handler != null;
            }
            ClassLoader loader = http.getClass().getClassLoader();
            Class<?> handlerType = Class.forName("io.undertow.server.HttpHandler", false, loader);
            Method handle = handlerType.getMethod("handleRequest", Class.forName("io.undertow.server.HttpServerExchange", false, loader));
            Method persistent = handle.getParameterTypes()[0].getMethod("setPersistent", boolean.class);
            root.set(http, Proxy.newProxyInstance(loader, new Class<?>[] {handlerType}, (proxy, method, args) -> {
                switch (method.getName()) {
                    case "equals" -> {
                        return proxy == args[0];
                    }
                    case "hashCode" -> {
                        return System.identityHashCode(proxy);
                    }
                    case "toString" -> {
                        return "Forkless drain: Connection: close, then " + handler;
                    }
                    default -> {
                        persistent.invoke(args[0], false);
                        try {
                            return handle.invoke(handler, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    }
                }
            }));
            return true;
        }

        private static Class<?> superclassNamed(Class<?> type, String name) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                if (c.getName().equals(name)) {
                    return c;
                }
            }
            return null;
        }
    }

    /** Jetty 10 to 12: a connection's end point, its HTTP/1 connection, that connection's configuration. */
    private static final class Jetty {

        static Object configuration(Object endPoint) throws ReflectiveOperationException {
            Method getConnection;
            try {
                getConnection = endPoint.getClass().getMethod("getConnection");
            } catch (NoSuchMethodException notAnEndPoint) {
                return null;
            }
            Object http = getConnection.invoke(endPoint);
            if (http == null) {
                return null;
            }
            try {
                return http.getClass().getMethod("getHttpConfiguration").invoke(http);
            } catch (NoSuchMethodException notHttp1) {
                return null;
            }
        }
    }

    /**
     * Netty 4.1 and 4.2 on NIO (plain Netty, Reactor Netty, Vert.x, Micronaut, Quarkus): a handler next to
     * the connection's HTTP/1 response encoder sets {@code Connection: close} on each response, made as a
     * {@link Proxy} of the app's own {@code ChannelOutboundHandler}.
     */
    private static final class Netty {

        private static final String CHANNEL = "io.netty.channel.Channel";
        private static final Set<String> ENCODERS = Set.of("io.netty.handler.codec.http.HttpServerCodec",
                "io.netty.handler.codec.http.HttpResponseEncoder");
        private static final String NAME = "forkless-drain";

        /** The Netty channel a selection key's attachment belongs to (4.1: itself; 4.2: its registration's). */
        static Object channel(Object attachment) throws IllegalAccessException {
            List<Object> level = List.of(attachment);
            for (int depth = 0; depth < 4 && !level.isEmpty(); depth++) {
                List<Object> next = new ArrayList<>();
                for (Object o : level) {
                    if (implementsType(o.getClass(), CHANNEL)) {
                        return o;
                    }
                    for (Class<?> c = o.getClass(); c != null && c.getName().startsWith("io.netty."); c = c.getSuperclass()) {
                        for (Field f : c.getDeclaredFields()) {
                            if (java.lang.reflect.Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()
                                    || !(f.getType().getName().startsWith("io.netty.") || f.getType() == Object.class)) {
                                continue;
                            }
                            try {
                                f.setAccessible(true);
                            } catch (RuntimeException notOpen) {
                                continue;
                            }
                            Object value = f.get(o);
                            if (value != null) {
                                next.add(value);
                            }
                        }
                    }
                }
                level = next;
            }
            return null;
        }

        /** @return whether the channel speaks HTTP/1 and now closes after each response */
        static boolean closeAfterEachResponse(Object channel) throws ReflectiveOperationException {
            ClassLoader loader = channel.getClass().getClassLoader();
            Class<?> channelType = Class.forName(CHANNEL, false, loader);
            Object pipeline = channelType.getMethod("pipeline").invoke(channel);
            Class<?> pipelineType = Class.forName("io.netty.channel.ChannelPipeline", false, loader);
            List<?> names = (List<?>) pipelineType.getMethod("names").invoke(pipeline);
            String encoder = null;
            for (Object name : names) {
                if (NAME.equals(name)) {
                    return true;
                }
                Object handler = pipelineType.getMethod("get", String.class).invoke(pipeline, name);
                if (handler != null && ENCODERS.stream().anyMatch(e -> extendsType(handler.getClass(), e))) {
                    encoder = (String) name;
                }
            }
            if (encoder == null) {
                return false;
            }
            Class<?> handlerType = Class.forName("io.netty.channel.ChannelHandler", false, loader);
            Class<?> outbound = Class.forName("io.netty.channel.ChannelOutboundHandler", false, loader);
            Object handler = Proxy.newProxyInstance(loader, new Class<?>[] {outbound}, new ConnectionCloseHandler(loader));
            pipelineType.getMethod("addAfter", String.class, String.class, handlerType).invoke(pipeline, encoder, NAME, handler);
            return true;
        }

        private static boolean implementsType(Class<?> type, String name) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                for (Class<?> i : c.getInterfaces()) {
                    if (i.getName().equals(name) || implementsType(i, name)) {
                        return true;
                    }
                }
            }
            return false;
        }

        private static boolean extendsType(Class<?> type, String name) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                if (c.getName().equals(name)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** The Netty handler: what goes out passes on as it is, an HTTP response with {@code Connection: close}. */
    private static final class ConnectionCloseHandler implements InvocationHandler {

        private final Class<?> response;
        private final Class<?> context;
        private final Method headers;
        private final Method set;

        ConnectionCloseHandler(ClassLoader loader) throws ReflectiveOperationException {
            this.response = Class.forName("io.netty.handler.codec.http.HttpResponse", false, loader);
            this.context = Class.forName("io.netty.channel.ChannelHandlerContext", false, loader);
            this.headers = Class.forName("io.netty.handler.codec.http.HttpMessage", false, loader).getMethod("headers");
            this.set = Class.forName("io.netty.handler.codec.http.HttpHeaders", false, loader)
                    .getMethod("set", String.class, Object.class);
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
                case "equals" -> {
                    return proxy == args[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                case "toString" -> {
                    return "Forkless drain: Connection: close";
                }
                case "handlerAdded", "handlerRemoved" -> {
                    return null;
                }
                default -> {
                    // below
                }
            }
            Object ctx = args[0];
            if (name.equals("exceptionCaught")) {
                context.getMethod("fireExceptionCaught", Throwable.class).invoke(ctx, args[1]);
                return null;
            }
            if (name.equals("write") && response.isInstance(args[1])) {
                set.invoke(headers.invoke(args[1]), "connection", "close");
            }
            Class<?>[] types = method.getParameterTypes();
            Object[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
            try {
                context.getMethod(name, java.util.Arrays.copyOfRange(types, 1, types.length)).invoke(ctx, rest);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
            return null;
        }
    }

    /** Sets {@code Connection: close} on each response: the JDK server then closes the connection after it. */
    private static final class ConnectionClose extends com.sun.net.httpserver.Filter {

        @Override
        public void doFilter(com.sun.net.httpserver.HttpExchange exchange, Chain chain) throws java.io.IOException {
            exchange.getResponseHeaders().set("Connection", "close");
            chain.doFilter(exchange);
        }

        @Override
        public String description() {
            return "Forkless drain: Connection: close";
        }
    }
}
