package dev.forkless.runtime.admin;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Where the admin server listens, as users write it: {@code HOST:PORT}, {@code :PORT}, {@code PORT}, or
 * {@code [::1]:PORT}. The default is {@value #DEFAULT}.
 *
 * @param host the host as written
 * @param port the port, {@code 0} for any free one
 */
public record AdminAddress(String host, int port) {

    /** The default address: loopback only. */
    public static final String DEFAULT = "127.0.0.1:9615";

    /** The default port. */
    public static final int DEFAULT_PORT = 9615;

    /**
     * Parses an address.
     *
     * @param text {@code HOST:PORT}, {@code :PORT} or {@code PORT}; an {@code http://} URL is accepted too
     * @return the address
     * @throws IllegalArgumentException when it is none
     */
    public static AdminAddress parse(String text) {
        String s = text.trim();
        if (s.toLowerCase(Locale.ROOT).startsWith("http://")) {
            try {
                URI uri = URI.create(s);
                if (uri.getHost() == null) {
                    throw new IllegalArgumentException("'" + text + "' is not an admin address (use HOST:PORT)");
                }
                return new AdminAddress(uri.getHost().replace("[", "").replace("]", ""),
                        uri.getPort() < 0 ? 80 : uri.getPort());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + text + "' is not an admin address (use HOST:PORT)");
            }
        }
        String host = "127.0.0.1";
        String port = s;
        int colon = s.lastIndexOf(':');
        if (colon >= 0) {
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty()) {
                host = "127.0.0.1";
            }
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not an admin address (use HOST:PORT or off)");
        }
        if (p < 0 || p > 65_535) {
            throw new IllegalArgumentException("admin port " + p + " is out of range 0-65535");
        }
        return new AdminAddress(host, p);
    }

    /**
     * @return the resolved socket address
     * @throws IllegalArgumentException when the host is unknown
     */
    public InetSocketAddress resolve() {
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unknown admin host '" + host + "'");
        }
    }

    /** @return whether only this machine can reach it */
    public boolean isLoopback() {
        return resolve().getAddress().isLoopbackAddress();
    }

    /** @return the base URL, {@code http://host:port} */
    public String url() {
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
