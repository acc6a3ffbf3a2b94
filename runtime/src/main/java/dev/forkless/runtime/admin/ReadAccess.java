package dev.forkless.runtime.admin;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Who may read the admin API (the copies, the shared state, the metrics): whoever has the token, and,
 * when the admin listens on loopback only, a request that names a loopback host. The Host check is the
 * defence against DNS rebinding: a web page the operator visits can make the browser send requests to
 * 127.0.0.1 under the attacker's own name, but never with {@code Host: localhost} or {@code 127.0.0.1}.
 *
 * @param token      the admin token
 * @param loopback   whether the admin listens on loopback only
 * @param openProbes whether the health checks and the metrics answer anyone ({@code --admin-open-probes})
 */
record ReadAccess(AdminToken token, boolean loopback, boolean openProbes) {

    private static final Pattern IPV4_LOOPBACK = Pattern.compile("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");

    /**
     * @param host          the request's {@code Host} header
     * @param authorization the request's {@code Authorization} header
     * @return whether it may read
     */
    boolean mayRead(Optional<String> host, Optional<String> authorization) {
        return (loopback && host.map(ReadAccess::isLoopbackName).orElse(false)) || token.accepts(authorization);
    }

    /**
     * @param host a {@code Host} header: a name or address, with or without a port
     * @return whether it names this machine's loopback: {@code localhost}, {@code 127.x.x.x} or {@code [::1]}
     */
    static boolean isLoopbackName(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0) {
                return false;
            }
            String rest = h.substring(end + 1);
            return h.substring(1, end).equals("::1") && (rest.isEmpty() || rest.matches(":\\d{1,5}"));
        }
        int colon = h.indexOf(':');
        if (colon >= 0) {
            if (!h.substring(colon).matches(":\\d{1,5}")) {
                return false;
            }
            h = h.substring(0, colon);
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        return h.equals("localhost") || IPV4_LOOPBACK.matcher(h).matches();
    }
}
