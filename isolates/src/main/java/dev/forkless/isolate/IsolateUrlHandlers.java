package dev.forkless.isolate;

import java.net.URLStreamHandler;
import java.net.URLStreamHandlerFactory;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The URL protocol handlers one copy registered, as a JVM would find them for one app: its
 * {@code URL.setURLStreamHandlerFactory} factory, then the {@code PKG.PROTOCOL.Handler} classes of the
 * packages its own {@code java.protocol.handler.pkgs} property names (Spring Boot's {@code nested:} and
 * {@code jar:} handlers), loaded through the copy's loaders.
 *
 * <p>The JDK keeps one handler per protocol for the whole JVM; the agent makes
 * {@code URL.getURLStreamHandler} ask the calling copy first ({@link JvmHooks#urlHandler}), so each copy
 * gets its own and one copy's registration is not seen by another.
 */
final class IsolateUrlHandlers {

    static final String PACKAGES = "java.protocol.handler.pkgs";

    private final Isolate isolate;
    private final ConcurrentHashMap<String, Found> found = new ConcurrentHashMap<>();
    private URLStreamHandlerFactory factory;

    /** A lookup's answer, valid while the property and the factory are what they were. */
    private record Found(String packages, URLStreamHandlerFactory factory, URLStreamHandler handler) {
    }

    IsolateUrlHandlers(Isolate isolate) {
        this.isolate = isolate;
    }

    /** {@code URL.setURLStreamHandlerFactory} in the copy: once, as in a JVM; {@code null} clears the cache. */
    synchronized void setFactory(URLStreamHandlerFactory fac) {
        if (factory != null) {
            throw new Error("factory already defined");
        }
        found.clear();
        factory = fac;
    }

    /** @return the copy's handler for a protocol, or {@code null} when it registered none */
    URLStreamHandler handler(String protocol) {
        String packages = isolate.properties().getProperty(PACKAGES);
        URLStreamHandlerFactory fac;
        synchronized (this) {
            fac = factory;
        }
        if (packages == null && fac == null) {
            return null;
        }
        Found f = found.get(protocol);
        if (f != null && java.util.Objects.equals(f.packages(), packages) && f.factory() == fac) {
            return f.handler();
        }
        URLStreamHandler handler = fac == null ? null : fac.createURLStreamHandler(protocol);
        if (handler == null && packages != null) {
            handler = fromPackages(packages, protocol);
        }
        found.put(protocol, new Found(packages, fac, handler));
        return handler;
    }

    private URLStreamHandler fromPackages(String packages, String protocol) {
        for (String prefix : packages.split("\\|")) {
            String name = prefix.trim() + "." + protocol + ".Handler";
            if (prefix.isBlank()) {
                continue;
            }
            for (ClassLoader loader : loaders()) {
                try {
                    Class<?> type = Class.forName(name, true, loader);
                    if (URLStreamHandler.class.isAssignableFrom(type)) {
                        return (URLStreamHandler) type.getDeclaredConstructor().newInstance();
                    }
                } catch (ReflectiveOperationException | LinkageError | RuntimeException notThere) {
                    // as the JDK: try the next package
                }
            }
        }
        return null;
    }

    /** The copy's loader, then the thread's context loader when it is one of the copy's (an app's own loader). */
    private java.util.List<ClassLoader> loaders() {
        ClassLoader own = isolate.loader();
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        java.util.List<ClassLoader> loaders = new java.util.ArrayList<>(2);
        if (own != null) {
            loaders.add(own);
        }
        if (context != null && context != own && Isolate.of(context) == isolate) {
            loaders.add(context);
        }
        return loaders;
    }
}
