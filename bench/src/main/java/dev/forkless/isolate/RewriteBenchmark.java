package dev.forkless.isolate;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.constant.ClassDesc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Class definition with and without call-site rewriting, on the real Helidon classes the demo ships
 * (demo/target/lib).
 *
 * <p>{@code rewritePerClass}: {@link CallSiteRewriter#rewrite} alone, averaged over every class of
 * helidon-webserver (one class per operation, cycling): {@code loopChecks=false} is the default of
 * isolates without loop checks (a constant-pool scan; only classes calling a redirected method are
 * parsed and rewritten), {@code true} rewrites every class.
 *
 * <p>{@code defineWebServerJar}: a fresh loader defines every class of helidon-webserver (and, through
 * their supertypes, what they need of the other Helidon jars), as an isolate's start does: {@code none}
 * defines the bytes as they are, {@code calls} and {@code calls+loops} rewrite each class first. One
 * operation = the whole jar; divide by the class count for a class.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xss1m", "-XX:MaxMetaspaceSize=1g"})
public class RewriteBenchmark {

    /** All class files of the demo's Helidon jars, by internal name. */
    private Map<String, byte[]> classes;
    /** Binary names of helidon-webserver's classes. */
    private List<String> webServer;
    private byte[][] webServerBytes;
    private int next;

    @Param({"none", "calls", "calls+loops"})
    public String rewriting;

    private CallSiteRewriter rewriter;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        classes = new HashMap<>();
        webServer = new ArrayList<>();
        try (Stream<Path> jars = Files.list(BenchHost.demoLib())) {
            for (Path jar : jars.filter(p -> p.getFileName().toString().startsWith("helidon-")).sorted().toList()) {
                boolean isWebServer = jar.getFileName().toString().startsWith("helidon-webserver-");
                try (JarFile file = new JarFile(jar.toFile())) {
                    for (JarEntry entry : file.stream().toList()) {
                        String name = entry.getName();
                        if (!name.endsWith(".class") || name.startsWith("META-INF/") || name.endsWith("module-info.class")) {
                            continue;
                        }
                        String internal = name.substring(0, name.length() - 6);
                        try (InputStream in = file.getInputStream(entry)) {
                            classes.putIfAbsent(internal, in.readAllBytes());
                        }
                        if (isWebServer) {
                            webServer.add(internal.replace('/', '.'));
                        }
                    }
                }
            }
        }
        webServerBytes = webServer.stream().map(n -> classes.get(n.replace('.', '/'))).toArray(byte[][]::new);
        rewriter = switch (rewriting) {
            case "none" -> null;
            case "calls" -> new CallSiteRewriter(false);
            case "calls+loops" -> new CallSiteRewriter(true);
            default -> throw new IllegalArgumentException(rewriting);
        };
        System.out.println("# helidon-webserver classes: " + webServer.size() + ", all Helidon classes: " + classes.size());
    }

    /** Class bytes for the rewriter's class hierarchy: Helidon's from memory, the JDK's from the JDK. */
    private InputStream hierarchy(ClassDesc desc) {
        String d = desc.descriptorString();
        String internal = d.substring(1, d.length() - 1);
        byte[] bytes = classes.get(internal);
        if (bytes != null) {
            return new ByteArrayInputStream(bytes);
        }
        return ClassLoader.getPlatformClassLoader().getResourceAsStream(internal + ".class");
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 3, time = 2)
    @Measurement(iterations = 5, time = 2)
    public byte[] rewritePerClass() {
        byte[] bytes = webServerBytes[next];
        next = next + 1 == webServerBytes.length ? 0 : next + 1;
        return rewriter == null ? bytes : rewriter.rewrite(bytes, this::hierarchy);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 5, time = 2)
    @Measurement(iterations = 5, time = 2)
    public int defineWebServerJar() throws ClassNotFoundException {
        Loader loader = new Loader();
        int defined = 0;
        for (String name : webServer) {
            try {
                Class.forName(name, false, loader);
                defined++;
            } catch (LinkageError | ClassNotFoundException optionalDependencyMissing) {
                // a supertype from a jar the demo does not ship: not definable in the app either
            }
        }
        return defined + loader.defined;
    }

    /** Child-first over the Helidon classes in memory, the JDK for the rest; rewrites as configured. */
    private final class Loader extends ClassLoader {
        int defined;

        Loader() {
            super("bench", ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c != null) {
                    return c;
                }
                byte[] bytes = classes.get(name.replace('.', '/'));
                if (bytes == null) {
                    return super.loadClass(name, resolve);
                }
                byte[] out;
                try {
                    out = rewriter == null ? bytes : rewriter.rewrite(bytes, RewriteBenchmark.this::hierarchy);
                } catch (UncheckedIOException e) {
                    throw new ClassNotFoundException(name, e);
                }
                defined++;
                return defineClass(name, out, 0, out.length);
            }
        }
    }
}
