package dev.forkless.runtime.deploy;

import dev.forkless.runtime.testing.RepoFiles;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/deploy/k8s, read as Kubernetes would (no cluster here): the probes use the admin plane's health
 * endpoints on the port the runtime's --admin binds, preStop waits before the kubelet's SIGTERM, the grace
 * period outlasts preStop plus the drain, and the pod asks for one CPU per isolate.
 */
class KubernetesManifestsTest {

    private static final int ADMIN_PORT = 9615;

    private static List<JsonNode> objects;
    private static JsonNode deployment;
    private static JsonNode container;
    private static List<String> args;

    @BeforeAll
    static void read() throws IOException {
        Path dir = RepoFiles.file("docs/deploy/k8s");
        objects = new ArrayList<>();
        YAMLMapper yaml = new YAMLMapper();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (MappingIterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(file.toFile())) {
                    docs.readAll().stream().filter(d -> !d.isMissingNode() && !d.isNull()).forEach(objects::add);
                }
            }
        }
        deployment = only("Deployment");
        JsonNode containers = deployment.at("/spec/template/spec/containers");
        assertEquals(1, containers.size(), "one container: the runtime");
        container = containers.get(0);
        args = StreamSupport.stream(container.path("args").spliterator(), false).map(JsonNode::asText).toList();
    }

    private static JsonNode only(String kind) {
        List<JsonNode> found = objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
        assertEquals(1, found.size(), "one " + kind + " in docs/deploy/k8s");
        return found.getFirst();
    }

    /** The value of a runtime option in the container's args, written {@code --x v} or {@code --x=v}. */
    private static Optional<String> option(String name) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals(name) && i + 1 < args.size()) {
                return Optional.of(args.get(i + 1));
            }
            if (args.get(i).startsWith(name + "=")) {
                return Optional.of(args.get(i).substring(name.length() + 1));
            }
        }
        return Optional.empty();
    }

    /** A probe's or a Service's port: a number, or the name of one of the container's ports. */
    private static int containerPort(JsonNode port) {
        if (port.isInt()) {
            return port.asInt();
        }
        for (JsonNode p : container.path("ports")) {
            if (p.path("name").asText().equals(port.asText())) {
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port named " + port);
    }

    private static long seconds(String duration) {
        Duration d = duration.matches("\\d+ms") ? Duration.ofMillis(Long.parseLong(duration.replace("ms", "")))
                : duration.matches("\\d+s") ? Duration.ofSeconds(Long.parseLong(duration.replace("s", "")))
                : duration.matches("\\d+m") ? Duration.ofMinutes(Long.parseLong(duration.replace("m", "")))
                : Duration.parse(duration);
        return (d.toMillis() + 999) / 1000;
    }

    @Test
    void probesUseTheAdminHealthEndpointsOnThePortTheAdminBinds() {
        String admin = option("--admin").orElseThrow(() -> new AssertionError("--admin in " + args));
        assertEquals("0.0.0.0:" + ADMIN_PORT, admin, "the kubelet probes the pod's IP: the admin must not bind loopback");
        for (var probe : Map.of("livenessProbe", "/health/live", "readinessProbe", "/health/ready").entrySet()) {
            JsonNode get = container.path(probe.getKey()).path("httpGet");
            assertEquals(probe.getValue(), get.path("path").asText(), probe.getKey());
            assertEquals(ADMIN_PORT, containerPort(get.path("port")), probe.getKey());
        }
        assertTrue(args.contains("--admin-open-probes"),
                "beyond loopback every read needs the token, and the kubelet sends none: " + args);
        JsonNode startup = container.path("startupProbe").path("httpGet");
        if (!startup.isMissingNode()) {
            assertEquals("/health/live", startup.path("path").asText());
            assertEquals(ADMIN_PORT, containerPort(startup.path("port")));
        }
    }

    @Test
    void theAdminTokenComesFromTheSecret() {
        String token = option("--admin-token").orElseThrow(() -> new AssertionError("binding beyond loopback needs a token"));
        assertTrue(token.matches("\\$\\([A-Z_]+\\)"), "a reference to an env var, not a literal token: " + token);
        String var = token.substring(2, token.length() - 1);
        JsonNode ref = StreamSupport.stream(container.path("env").spliterator(), false)
                .filter(e -> e.path("name").asText().equals(var)).findFirst()
                .orElseThrow(() -> new AssertionError("no env " + var)).at("/valueFrom/secretKeyRef");
        JsonNode secret = only("Secret");
        assertEquals(secret.at("/metadata/name").asText(), ref.path("name").asText());
        assertTrue(secret.path("stringData").has(ref.path("key").asText()) || secret.path("data").has(ref.path("key").asText()));
    }

    @Test
    void preStopWaitsAndTheGracePeriodOutlastsItAndTheDrain() {
        JsonNode preStop = container.at("/lifecycle/preStop");
        assertFalse(preStop.isMissingNode(), "a preStop hook");
        long preStopSeconds;
        if (preStop.has("sleep")) {
            preStopSeconds = preStop.at("/sleep/seconds").asLong();
        } else {
            List<String> command = StreamSupport.stream(preStop.at("/exec/command").spliterator(), false)
                    .map(JsonNode::asText).toList();
            assertEquals("sleep", command.getFirst(), "preStop only waits: the kubelet's SIGTERM starts the drain");
            assertTrue(command.stream().noneMatch(c -> c.contains("kill")), "no signal from preStop: " + command);
            preStopSeconds = Long.parseLong(command.get(1));
        }
        assertTrue(preStopSeconds >= 1, "long enough for the endpoints to be updated");
        long drain = seconds(option("--drain-timeout").orElse("5s"));
        long grace = deployment.at("/spec/template/spec/terminationGracePeriodSeconds").asLong(30);
        assertTrue(grace > drain, "terminationGracePeriodSeconds " + grace + " > --drain-timeout " + drain);
        assertTrue(grace > preStopSeconds + drain, "the grace period counts from preStop: " + grace + " > "
                + preStopSeconds + " + " + drain);
    }

    @Test
    void theCpuRequestIsOnePerIsolate() {
        String isolates = option("--isolates").or(() -> option("-i")).orElseThrow();
        assertTrue(isolates.matches("\\d+"), "an explicit count, not max: a pod's CPU request is not what the JVM sees");
        String cpu = container.at("/resources/requests/cpu").asText();
        BigDecimal cores = cpu.endsWith("m") ? new BigDecimal(cpu.substring(0, cpu.length() - 1)).movePointLeft(3)
                : new BigDecimal(cpu);
        assertEquals(0, cores.compareTo(new BigDecimal(isolates)), "cpu request " + cpu + " for " + isolates + " isolates");
        JsonNode limit = container.at("/resources/limits/cpu");
        if (!limit.isMissingNode()) {
            assertEquals(cpu, limit.asText(), "a CPU limit, when set, equals the request");
        }
    }

    @Test
    void theServiceSendsTrafficToTheAppsPortOnly() {
        JsonNode service = only("Service");
        assertEquals(deployment.at("/spec/selector/matchLabels"), service.at("/spec/selector"));
        assertEquals(deployment.at("/spec/selector/matchLabels"), deployment.at("/spec/template/metadata/labels"));
        int appPort = Integer.parseInt(args.get(args.indexOf("--port") + 1));
        for (JsonNode port : service.at("/spec/ports")) {
            int target = containerPort(port.path("targetPort"));
            assertEquals(appPort, target, "the Service targets the app's --port");
            assertTrue(target != ADMIN_PORT);
        }
    }
}
