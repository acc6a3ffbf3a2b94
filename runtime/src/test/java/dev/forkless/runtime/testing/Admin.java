package dev.forkless.runtime.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The admin API of a runtime started by a test: its URL and token, read from the runtime's output. */
public final class Admin {

    private static final Pattern LINE = Pattern.compile("forkless event=admin url=(\\S+?)/?(?: token-file=(\\S+))?$");

    private final URI url;
    private final Path tokenFile;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(30)).build(); // a busy machine's accept may come late

    private Admin(URI url, Path tokenFile) {
        this.url = url;
        this.tokenFile = tokenFile;
    }

    /** Waits until the runtime printed its admin line. */
    public static Admin of(RuntimeProcess runtime) {
        // said once the copies are ready: a JVM's start and a copy's, on a busy machine
        String line = runtime.awaitLine(l -> l.startsWith("forkless event=admin"), Duration.ofSeconds(120));
        Matcher m = LINE.matcher(line);
        if (!m.find()) {
            throw new AssertionError("bad admin line: " + line);
        }
        return new Admin(URI.create(m.group(1)), m.group(2) == null ? null : Path.of(m.group(2)));
    }

    /** @return the base URL, without a trailing slash */
    public URI url() {
        return url;
    }

    /** @return {@code host:port} */
    public String address() {
        return url.getHost() + ":" + url.getPort();
    }

    public int port() {
        return url.getPort();
    }

    public Path tokenFile() {
        return tokenFile;
    }

    /** @return the token from the token file */
    public String token() throws IOException {
        return Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(url.resolve(path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * @param authorization the whole {@code Authorization} header, or {@code null} for none
     * @param body          the body, or {@code null} for none
     */
    public HttpResponse<String> post(String path, String authorization, HttpRequest.BodyPublisher body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url.resolve(path)).timeout(Duration.ofSeconds(60))
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : body);
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Sends any method with a text body.
     *
     * @param authorization the whole {@code Authorization} header, or {@code null} for none
     */
    public HttpResponse<String> send(String method, String path, String authorization, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url.resolve(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POSTs with the right token. */
    public HttpResponse<String> post(String path) throws IOException, InterruptedException {
        return post(path, "Bearer " + token(), null);
    }

    /** The result of a CLI run. */
    public record Cli(int exitCode, List<String> out, List<String> err) {
    }

    /** Runs {@code java -jar runtime.jar args...} to its end. */
    public static Cli cli(String... args) throws IOException, InterruptedException {
        return cliWithEnvironment(java.util.Map.of(), args);
    }

    /** Runs {@code java -jar runtime.jar args...} to its end, with variables added to its environment. */
    public static Cli cliWithEnvironment(java.util.Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        return cliWithEnvironment(Duration.ofSeconds(180), environment, args);
    }

    /**
     * Runs {@code java -jar runtime.jar args...} to its end, waiting at most {@code atMost} (a command that
     * starts a runtime JVM, as {@code upgrade} does, takes longer on a busy machine), with variables added
     * to its environment.
     */
    public static Cli cliWithEnvironment(Duration atMost, java.util.Map<String, String> environment, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(RuntimeProcess.artifact("forkless.java").toString());
        command.addAll(RuntimeProcess.itJvmOptions());
        command.add("-jar");
        command.add(RuntimeProcess.artifact("forkless.runtime.jar").toString());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("forkless-cli", ".out");
        Path err = Files.createTempFile("forkless-cli", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command);
            builder.environment().put("FORKLESS_HOME", RuntimeProcess.testHome());
            builder.environment().putAll(environment);
            Process p = builder
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(atMost.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("CLI still running after " + atMost.toSeconds() + " s: " + command);
            }
            return new Cli(p.exitValue(), Files.readAllLines(out), Files.readAllLines(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
