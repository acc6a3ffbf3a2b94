package dev.forkless.runtime;

import dev.forkless.runtime.testing.Http;
import dev.forkless.runtime.testing.KeepAliveLoad;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --cron-restart} with the real runtime and a real schedule: the six-field form with a seconds field
 * lets the reloads come every few seconds, so two of them are seen without waiting minutes (the next-time
 * arithmetic itself is CronScheduleTest's). Under keep-alive load no request fails: it is a rolling reload.
 */
class CronRestartIT {

    @TempDir
    Path dir;

    @Test
    void theScheduleReloadsEveryCopyWithoutAFailedRequest() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "0",
                "--drain-timeout", "3s", "--cron-restart", "*/3 * * * * *")) {
            InetSocketAddress address = runtime.awaitReady();
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", 4, Duration.ofSeconds(12));
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    runtime.lines().stream().filter(l -> l.equals("forkless event=reloading trigger=\"cron\"")).count() >= 2
                    && runtime.hasLine(l -> l.startsWith("forkless event=reloaded ok=true replaced=2")));
            load.await();
            assertTrue(load.ok() > 0, load.summary());
            assertEquals(0, load.failed(), load.summary());
            assertEquals(200, Http.get(address, "/").status());
            assertTrue(runtime.hasLine(l -> l.matches("forkless isolate=[3-9]\\d* event=ready.*")),
                    "new copies served: " + runtime.output());
        }
    }

    @Test
    void theConfigFileKeyWorksAsTheFlag() throws Exception {
        Path config = Files.writeString(dir.resolve("forkless.yaml"), """
                app: %s
                args: [--port, "0", --host, 127.0.0.1]
                isolates: 1
                standby: 0
                cronRestart: "*/2 * * * * *"
                """.formatted(RuntimeProcess.demoJar()));
        try (RuntimeProcess runtime = RuntimeProcess.start("--config", config.toString())) {
            runtime.awaitReady();
            runtime.awaitLine(l -> l.equals("forkless event=reloading trigger=\"cron\""), Duration.ofSeconds(30));
        }
    }
}
