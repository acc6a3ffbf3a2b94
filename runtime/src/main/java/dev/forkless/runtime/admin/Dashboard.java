package dev.forkless.runtime.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

/**
 * The live dashboard at {@code GET /}: three static files from the runtime's own resources, no CDN. The
 * page polls {@code /api/workers} and asks the user for the token (or reads it from the URL fragment
 * {@code #token=...}, which browsers never send to the server) before it can reload, scale or restart.
 */
final class Dashboard implements HttpService {

    private static final String ROOT = "/dev/forkless/runtime/admin/dashboard/";
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "dashboard.js", "text/javascript; charset=utf-8",
            "dashboard.css", "text/css; charset=utf-8");

    private final Map<String, byte[]> content;

    Dashboard() {
        this.content = Map.of(
                "index.html", read("index.html"),
                "dashboard.js", read("dashboard.js"),
                "dashboard.css", read("dashboard.css"));
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", (req, res) -> serve(res, "index.html"));
        for (String file : FILES.keySet()) {
            rules.get("/" + file, (req, res) -> serve(res, file));
        }
    }

    private void serve(io.helidon.webserver.http.ServerResponse res, String file) {
        res.header(HeaderNames.CONTENT_TYPE, FILES.get(file));
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.header(HeaderNames.create("Content-Security-Policy"),
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        res.header(HeaderNames.create("X-Content-Type-Options"), "nosniff");
        res.send(content.get(file));
    }

    private static byte[] read(String file) {
        try (InputStream in = Dashboard.class.getResourceAsStream(ROOT + file)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard's " + file + " is missing from the runtime");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
