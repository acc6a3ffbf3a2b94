package dev.forkless.runtime.deploy;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.Nginx;
import dev.forkless.runtime.testing.RepoFiles;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * docs/deploy/nginx.conf, as shipped, in front of two runtimes of two isolates each: under keep-alive
 * load through nginx, one runtime does a rolling reload and the other stops; the client sees no failed
 * request.
 */
class NginxIT {

    /** In the doc file: the two runtimes and the port nginx listens on; the test puts its own in. */
    static final String RUNTIME_A = "127.0.0.1:8081";
    static final String RUNTIME_B = "127.0.0.1:8082";
    static final String LISTEN = "listen 80;";

    private static final Pattern PID = Pattern.compile("\"pid\":(\\d+)");

    @TempDir
    Path dir;

    /** The shipped file with this test's addresses; each placeholder must occur exactly once. */
    static String site(InetSocketAddress a, InetSocketAddress b, int port) throws Exception {
        String conf = Files.readString(RepoFiles.file("docs/deploy/nginx.conf"));
        for (String placeholder : new String[] {RUNTIME_A, RUNTIME_B, LISTEN}) {
            assertEquals(1, conf.split(Pattern.quote(placeholder), -1).length - 1,
                    "docs/deploy/nginx.conf names " + placeholder + " exactly once");
        }
        return conf.replace(RUNTIME_A, "127.0.0.1:" + a.getPort())
                .replace(RUNTIME_B, "127.0.0.1:" + b.getPort())
                .replace(LISTEN, "listen 127.0.0.1:" + port + ";");
    }

    private static Optional<Path> nginx() {
        Optional<Path> nginx = Nginx.executable();
        if (nginx.isEmpty() && System.getenv("FORKLESS_REQUIRE_NGINX") != null) {
            fail("nginx is not installed, and FORKLESS_REQUIRE_NGINX is set (.ci/run installs it)");
        }
        assumeTrue(nginx.isPresent(), "nginx is not installed (apt-get install nginx); .ci/run installs it");
        return nginx;
    }

    @Test
    void reloadOfOneRuntimeAndStopOfTheOtherFailNoRequestThroughNginx() throws Exception {
        Path executable = nginx().orElseThrow();
        try (RuntimeProcess a = RuntimeProcess.demo("--isolates", "2", "--drain-timeout", "3s");
             RuntimeProcess b = RuntimeProcess.demo("--isolates", "2", "--drain-timeout", "3s")) {
            InetSocketAddress addressA = a.awaitReady();
            InetSocketAddress addressB = b.awaitReady();
            int port = Nginx.freePort();
            try (Nginx nginx = Nginx.start(executable, dir, site(addressA, addressB, port), port)) {
                InetSocketAddress front = nginx.address();
                awaitServedBy(front, Set.of(a.pid(), b.pid()));

                try (KeepAliveLoad load = KeepAliveLoad.start(front, "/", 16, Duration.ofSeconds(240))) {
                    await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > 1_000);

                    assertEquals(0, new ProcessBuilder("kill", "-HUP", String.valueOf(a.pid())).start().waitFor());
                    String reloaded = a.awaitLine(l -> l.contains("event=reloaded"), Duration.ofSeconds(120));
                    assertTrue(reloaded.contains("ok=true"), a.output());

                    b.terminate();
                    assertEquals(0, b.awaitExit(Duration.ofSeconds(20)), b.output());

                    long afterStop = load.ok();
                    await().atMost(Duration.ofSeconds(60)).until(() -> load.ok() > afterStop + 1_000);
                    load.close();
                    assertEquals(0, load.failed(), load.summary() + "\n" + nginx.logs());
                }
                assertEquals("Hello World", Http.get(front, "/").body(), "runtime A alone serves");
            }
        }
    }

    /** Waits until requests through nginx reached every runtime (the demo answers its JVM's pid). */
    private static void awaitServedBy(InetSocketAddress front, Set<Long> pids) {
        Set<Long> seen = new HashSet<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            Matcher m = PID.matcher(Http.get(front, "/whoami").body());
            assertTrue(m.find());
            seen.add(Long.parseLong(m.group(1)));
            return seen.containsAll(pids);
        });
    }
}
