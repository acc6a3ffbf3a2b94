package dev.forkless.runtime.admin;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.RuntimeProcess;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin options of the runtime and the CLI with no runtime to talk to. */
class AdminCliIT {

    @Test
    void everyClientCommandExitsThreeWhenNoRuntimeIsReachable() throws Exception {
        String address = "127.0.0.1:1"; // nothing listens there (a free port found now could be taken meanwhile)
        for (String[] command : new String[][] {{"list"}, {"reload"}, {"scale", "2"}, {"restart", "1"}, {"stop"},
                {"upgrade"}, {"monit", "--iterations", "1"}, {"metering", "off"}}) {
            String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command),
                    java.util.stream.Stream.of("--admin", address)).toArray(String[]::new);
            Admin.Cli cli = Admin.cli(args);
            assertEquals(3, cli.exitCode(), String.join(" ", command) + ": " + cli.err());
            assertEquals(1, cli.err().size(), cli.err().toString());
            assertTrue(cli.err().getFirst().startsWith("forkless: no runtime"), cli.err().toString());
        }
    }

    @Test
    void anAddressBeyondLoopbackNeedsAToken() throws Exception {
        try (RuntimeProcess runtime = RuntimeProcess.start("--admin", "0.0.0.0:0", RuntimeProcess.demoJar().toString())) {
            assertEquals(2, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
            assertEquals(1, runtime.lines().size(), runtime.output());
            assertTrue(runtime.lines().getFirst().startsWith("forkless: ") && runtime.lines().getFirst().contains("token"),
                    runtime.output());
        }
        try (RuntimeProcess runtime = RuntimeProcess.start("--admin", "127.0.0.1:nope", RuntimeProcess.demoJar().toString())) {
            assertEquals(2, runtime.awaitExit(Duration.ofSeconds(30)), runtime.output());
            assertTrue(runtime.lines().getFirst().contains("not an admin address"), runtime.output());
        }
    }

    @Test
    void aTakenAdminAddressGivenExplicitlyExitsTwo() throws Exception {
        try (ServerSocket other = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "1", "--standby", "0",
                    "--admin", "127.0.0.1:" + other.getLocalPort())) {
                assertEquals(2, runtime.awaitExit(Duration.ofSeconds(120)), runtime.output()); // after a JVM's and a copy's start
                assertTrue(runtime.hasLine(l -> l.startsWith("forkless: cannot listen on admin address")), runtime.output());
            }
        }
    }

    @Test
    void adminOffAndAGivenToken() throws Exception {
        try (RuntimeProcess off = RuntimeProcess.demo("--isolates", "1", "--standby", "0", "--admin", "off");
             RuntimeProcess given = RuntimeProcess.demo("--isolates", "1", "--standby", "0", "--admin", "127.0.0.1:0",
                     "--admin-token", "s3cret-token-of-24-chars")) {
            off.awaitReady();
            given.awaitReady();
            assertFalse(off.hasLine(l -> l.contains("event=admin")), off.output());
            Admin admin = Admin.of(given);
            assertEquals(null, admin.tokenFile(), "a given token is written nowhere");
            assertEquals(401, admin.post("/api/reload", "Bearer wrong", null).statusCode());
            assertEquals(200, admin.post("/api/reload", "Bearer s3cret-token-of-24-chars", null).statusCode());
        }
    }
}
