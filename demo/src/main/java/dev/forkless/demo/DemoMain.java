package dev.forkless.demo;

import dev.forkless.api.Messages;
import dev.forkless.api.SharedState;
import dev.forkless.api.Worker;

import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * A plain Helidon SE app with fault-injection endpoints. It knows nothing of Forkless but the small
 * {@link Worker} API, which it uses only to say which copy answered.
 *
 * <p>Arguments: {@code [--port N] [--host H]}; the port also comes from {@code PORT}, default 8080.
 */
public final class DemoMain {

    private DemoMain() {
    }

    /**
     * Starts the server.
     *
     * @param args {@code [--port N] [--host H]}
     */
    public static void main(String[] args) {
        int port = Integer.parseInt(option(args, "--port", System.getenv().getOrDefault("PORT", "8080")));
        String host = option(args, "--host", "0.0.0.0");
        Messages.onMessage(message -> System.out.println("broadcast received: " + message.text()));
        WebServer server = WebServer.builder()
                .host(host)
                .port(port)
                .routing(DemoMain::routing)
                .build()
                .start();
        System.out.println("demo listening on " + host + ":" + server.port() + " as " + Worker.mode() + " " + Worker.id());
    }

    static void routing(HttpRouting.Builder routing) {
        routing.get("/", (req, res) -> res.send("Hello World"))
                .get("/whoami", DemoMain::whoami)
                .get("/crash", DemoMain::crash)
                .get("/exit", DemoMain::exit)
                .get("/work", DemoMain::work)
                .get("/hang", DemoMain::hang)
                .get("/sse", DemoMain::sse)
                .get("/halt", (req, res) -> {
                    res.status(Status.ACCEPTED_202).send("halting with status 4");
                    new Thread(() -> Runtime.getRuntime().halt(4), "demo-halt").start();
                })
                .get("/hang-in-jdk", DemoMain::hangInJdk)
                .get("/deadlock", DemoMain::deadlock)
                .get("/oom", DemoMain::oom)
                .get("/leak", DemoMain::leak)
                .get("/property/{name}", (req, res) -> res.send(String.valueOf(System.getProperty(req.path().pathParameters().get("name")))))
                .put("/property/{name}", (req, res) -> {
                    String name = req.path().pathParameters().get("name");
                    System.setProperty(name, req.content().as(String.class));
                    res.send(System.getProperty(name));
                })
                .get("/counter", (req, res) -> res.send(String.valueOf(++counter)))
                .get("/env/{name}", DemoMain::env)
                .get("/instance", DemoMain::instance)
                .get("/log", DemoMain::log)
                .get("/shared/{key}", DemoMain::shared)
                .post("/broadcast", DemoMain::broadcast);
    }

    /** A static: each copy of the app has its own. */
    private static int counter;

    private static void whoami(ServerRequest req, ServerResponse res) {
        res.header("Content-Type", "application/json")
                .send("{\"isolate\":\"" + Worker.id() + "\",\"pid\":" + ProcessHandle.current().pid()
                        + ",\"mode\":\"" + Worker.mode() + "\"}");
    }

    /** This copy's current value of a shared state key; 404 when it has none. */
    private static void shared(ServerRequest req, ServerResponse res) {
        String value = SharedState.get(req.path().pathParameters().get("key"));
        if (value == null) {
            res.status(Status.NOT_FOUND_404).send("no such key");
        } else {
            res.send(value);
        }
    }

    /** Asks the runtime to pass the body on to every copy; each logs it (the handler in main). */
    private static void broadcast(ServerRequest req, ServerResponse res) {
        String text = req.content().as(String.class);
        if (Messages.broadcast(text)) {
            res.status(Status.ACCEPTED_202).send("broadcast");
        } else {
            res.status(Status.SERVICE_UNAVAILABLE_503).send("not running under Forkless, or the runtime's inbox is full");
        }
    }

    private static void crash(ServerRequest req, ServerResponse res) {
        res.status(Status.ACCEPTED_202).send("crashing");
        Thread crasher = new Thread(() -> {
            throw new IllegalStateException("crash requested through /crash");
        }, "demo-crash");
        crasher.start();
    }

    private static void exit(ServerRequest req, ServerResponse res) {
        Exits.exitSoon(req.query().first("how").orElse(null)); // IllegalArgumentException (500) for an unknown one
        res.status(Status.ACCEPTED_202).send("exiting with status 3");
    }

    private static void work(ServerRequest req, ServerResponse res) {
        long ms = req.query().first("ms").asLong().orElse(10L);
        if (ms < 0 || ms > 60_000) {
            res.status(Status.BAD_REQUEST_400).send("ms must be between 0 and 60000");
            return;
        }
        long end = System.nanoTime() + ms * 1_000_000;
        long x = 0;
        while (System.nanoTime() < end) {
            x += Long.numberOfTrailingZeros(x + System.nanoTime());
        }
        res.send("worked " + ms + " ms (" + (x & 1) + ")");
    }

    /** This copy's instance number ({@link Worker#instance()}); 404 for a standby, or alone. */
    private static void instance(ServerRequest req, ServerResponse res) {
        java.util.OptionalInt instance = Worker.instance();
        if (instance.isPresent()) {
            res.send(String.valueOf(instance.getAsInt()));
        } else {
            res.status(Status.NOT_FOUND_404).send("no instance number");
        }
    }

    /** The value of one environment variable, as the app sees it; 404 when it is not set. */
    private static void env(ServerRequest req, ServerResponse res) {
        String value = System.getenv(req.path().pathParameters().get("name"));
        if (value == null) {
            res.status(Status.NOT_FOUND_404).send();
        } else {
            res.send(value);
        }
    }

    /**
     * Writes {@code lines} lines to System.out and to System.err from the request's thread and from
     * {@code threads} threads it starts (half platform, half virtual), each line in three pieces, and one
     * System.Logger line: {@code log worker=ID thread=NAME seq=N stream=out|err xxxx}.
     */
    private static void log(ServerRequest req, ServerResponse res) throws InterruptedException {
        int lines = req.query().first("lines").asInt().orElse(10);
        int threads = req.query().first("threads").asInt().orElse(2);
        if (lines < 0 || lines > 100_000 || threads < 0 || threads > 64) {
            res.status(Status.BAD_REQUEST_400).send("lines 0..100000, threads 0..64");
            return;
        }
        java.util.List<Thread> started = new java.util.ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Runnable write = () -> writeLines(lines);
            started.add(t % 2 == 0 ? Thread.ofPlatform().name("demo-log-" + t).start(write)
                    : Thread.ofVirtual().name("demo-vlog-" + t).start(write));
        }
        writeLines(lines);
        for (Thread thread : started) {
            thread.join();
        }
        System.getLogger("dev.forkless.demo").log(System.Logger.Level.WARNING, "logged worker=" + Worker.id());
        res.send("logged " + (lines * 2 * (threads + 1)) + " lines by " + Worker.id());
    }

    private static void writeLines(int lines) {
        String thread = Thread.currentThread().getName().isEmpty() ? "request" : Thread.currentThread().getName();
        String padding = "x".repeat(40);
        for (int i = 0; i < lines; i++) {
            for (java.io.PrintStream stream : new java.io.PrintStream[] {System.out, System.err}) {
                stream.print("log worker=" + Worker.id());
                stream.print(" thread=" + thread.replace(' ', '_') + " seq=" + i);
                stream.println(" stream=" + (stream == System.out ? "out" : "err") + " " + padding);
            }
        }
    }

    /**
     * A server-sent-events stream: one event a second for {@code ?seconds=N} seconds (default 60), written
     * as plain chunks (the demo has no SSE module). A long stream, not a hang.
     */
    private static void sse(ServerRequest req, ServerResponse res) throws java.io.IOException, InterruptedException {
        int seconds = req.query().first("seconds").asInt().orElse(60);
        res.header("Content-Type", "text/event-stream");
        res.header("Cache-Control", "no-cache");
        try (java.io.OutputStream out = res.outputStream()) {
            for (int i = 1; i <= seconds; i++) {
                out.write(("data: tick " + i + " from " + Worker.id() + "\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.flush();
                Thread.sleep(1000);
            }
            out.write("event: end\ndata: done\n\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static void hang(ServerRequest req, ServerResponse res) {
        long x = 0;
        while (x >= 0) {
            x = (x + 1) & Long.MAX_VALUE;
        }
        res.send("unreachable " + x);
    }

    /**
     * Never answers: the loop runs inside the JDK's stream code (the app's lambdas have no loop of
     * their own), where a loop check inserted into app code cannot reach.
     */
    private static void hangInJdk(ServerRequest req, ServerResponse res) {
        long found = java.util.stream.LongStream.iterate(0, i -> i + 1).filter(i -> i < 0).findFirst().orElse(-1);
        res.send("unreachable " + found);
    }

    /** Never answers: two app threads deadlock and the request waits for them. */
    private static void deadlock(ServerRequest req, ServerResponse res) throws InterruptedException {
        Object a = new Object();
        Object b = new Object();
        java.util.concurrent.CountDownLatch both = new java.util.concurrent.CountDownLatch(2);
        Thread first = new Thread(() -> lockBoth(a, b, both), "demo-deadlock-1");
        Thread second = new Thread(() -> lockBoth(b, a, both), "demo-deadlock-2");
        first.start();
        second.start();
        first.join();
        res.send("unreachable");
    }

    private static void lockBoth(Object one, Object two, java.util.concurrent.CountDownLatch both) {
        synchronized (one) {
            both.countDown();
            try {
                both.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (two) {
                both.countDown();
            }
        }
    }

    /** 202, then an app thread allocates until the heap is exhausted. */
    /** What {@code /leak} keeps: a growing map, as a cache that never evicts. */
    private static final java.util.Map<Integer, byte[]> LEAKED = new java.util.concurrent.ConcurrentHashMap<>();

    /** Keeps {@code mb} more MiB (default 1) for good, in a static map: a leak. */
    private static void leak(ServerRequest req, ServerResponse res) {
        int mb = req.query().first("mb").asInt().orElse(1);
        if (mb < 0 || mb > 256) {
            res.status(Status.BAD_REQUEST_400).send("mb must be between 0 and 256");
            return;
        }
        for (int i = 0; i < mb; i++) {
            byte[] block = new byte[1 << 20];
            java.util.Arrays.fill(block, (byte) 1);
            LEAKED.put(LEAKED.size(), block);
        }
        res.send("leaked " + LEAKED.size() + " MiB in all");
    }

    private static void oom(ServerRequest req, ServerResponse res) {
        res.status(Status.ACCEPTED_202).send("allocating until OutOfMemoryError");
        Thread hog = new Thread(() -> {
            java.util.List<long[]> hoard = new java.util.ArrayList<>();
            while (true) {
                hoard.add(new long[1 << 20]);
            }
        }, "demo-oom");
        hog.start();
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
