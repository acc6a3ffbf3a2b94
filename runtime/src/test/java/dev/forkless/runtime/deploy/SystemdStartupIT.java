package dev.forkless.runtime.deploy;

import dev.forkless.runtime.testing.RuntimeProcess;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code java -jar runtime.jar startup systemd}: the unit it prints passes {@code systemd-analyze verify}
 * where systemd is installed, and always has the keys that make boot start, restart, stop and reload work.
 */
class SystemdStartupIT {

    @TempDir
    Path dir;

    /** Runs the real runtime.jar; returns exit code, stdout, stderr. */
    private static Result run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(RuntimeProcess.artifact("forkless.java").toString(), "-jar",
                RuntimeProcess.artifact("forkless.runtime.jar").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    record Result(int code, String out, String err) {
    }

    /** The unit's keys, section by section ({@code Service.ExecStart}), comments left out. */
    static Map<String, String> keys(String unit) {
        Map<String, String> keys = new LinkedHashMap<>();
        String section = "";
        for (String line : unit.lines().map(String::strip).toList()) {
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[") && line.endsWith("]")) {
                section = line.substring(1, line.length() - 1);
                continue;
            }
            int eq = line.indexOf('=');
            assertTrue(eq > 0, "not a key=value line: " + line);
            String previous = keys.put(section + "." + line.substring(0, eq), line.substring(eq + 1));
            assertEquals(null, previous, "one " + line.substring(0, eq) + " in [" + section + "]");
        }
        return keys;
    }

    private static Optional<Path> systemdAnalyze() {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/bin:/bin";
        return Stream.of(path.split(File.pathSeparator)).filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, "systemd-analyze")).filter(Files::isExecutable).findFirst();
    }

    @Test
    void printsAUnitThatRestartsStopsGracefullyAndReloads() throws Exception {
        Path demo = RuntimeProcess.demoJar().toAbsolutePath();
        Result result = run("startup", "systemd", "--name", "forkless-demo", "--java-option=-Xmx512m", "--",
                "--isolates", "2", "--drain-timeout", "7s", demo.toString(), "--port", "8080", "--drain-timeout", "99s");
        assertEquals(0, result.code(), result.err());
        Map<String, String> keys = keys(result.out());

        String java = RuntimeProcess.artifact("forkless.java").toString();
        String jar = RuntimeProcess.artifact("forkless.runtime.jar").toAbsolutePath().normalize().toString();
        assertEquals(java + " -Xmx512m -jar " + jar + " --isolates 2 --drain-timeout 7s " + demo
                + " --port 8080 --drain-timeout 99s", keys.get("Service.ExecStart"));
        assertEquals("on-failure", keys.get("Service.Restart"));
        assertEquals("SIGTERM", keys.get("Service.KillSignal"));
        assertEquals("mixed", keys.get("Service.KillMode"), "SIGTERM to the runtime only; it stops its children");
        assertEquals("/bin/kill -HUP $MAINPID", keys.get("Service.ExecReload"));
        assertEquals("notify", keys.get("Service.Type"), "READY=1 once serving; MAINPID= after forkless upgrade");
        assertEquals("all", keys.get("Service.NotifyAccess"), "the new runtime of an upgrade is not the main process yet");
        assertEquals("17", keys.get("Service.TimeoutStopSec"), "the runtime's 7s drain (not the app's 99s) + 10s");
        assertEquals("2", keys.get("Service.RestartPreventExitStatus"));
        assertEquals(System.getProperty("user.name"), keys.get("Service.User"));
        assertEquals("multi-user.target", keys.get("Install.WantedBy"));

        Optional<Path> analyze = systemdAnalyze();
        if (analyze.isPresent()) {
            Path unit = Files.writeString(dir.resolve("forkless-demo.service"), result.out());
            Process verify = new ProcessBuilder(analyze.get().toString(), "verify", unit.toString())
                    .redirectErrorStream(true).start();
            String output = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(verify.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, verify.exitValue(), output);
            assertEquals("", output.strip(), "systemd-analyze verify has nothing to say about the unit");
        }
    }

    @Test
    void withAConfigFileTheUnitPassesItsAbsolutePath() throws Exception {
        Path config = Files.writeString(dir.resolve("forkless.yaml"), "isolates: 2\n");
        Result result = run("startup", "systemd", "--config", config.toString(), "--stop-timeout", "40s", "--user", "www-data");
        assertEquals(0, result.code(), result.err());
        Map<String, String> keys = keys(result.out());
        assertTrue(keys.get("Service.ExecStart").endsWith(" --config " + config.toAbsolutePath()), keys.toString());
        assertEquals("40", keys.get("Service.TimeoutStopSec"));
        assertEquals("www-data", keys.get("Service.User"));
    }

    @Test
    void badInputIsOneLineAndExitTwo() throws Exception {
        for (String[] args : List.of(new String[] {"startup", "systemd"},
                new String[] {"startup", "upstart", "--", "app.jar"},
                new String[] {"startup", "systemd", "--config", dir.resolve("missing.yaml").toString()},
                new String[] {"startup", "systemd", "--stop-timeout", "3s", "--", "--drain-timeout", "5s", "app.jar"},
                new String[] {"startup", "systemd", "--user", "a b", "--", "app.jar"})) {
            Result result = run(args);
            assertEquals(2, result.code(), String.join(" ", args) + ": " + result.err());
            assertEquals("", result.out());
            assertEquals(1, result.err().lines().count(), result.err());
            assertTrue(result.err().startsWith("forkless: "), result.err());
        }
    }
}
