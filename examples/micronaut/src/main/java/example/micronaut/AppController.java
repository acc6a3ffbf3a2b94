package example.micronaut;

import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.annotation.QueryValue;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

@Controller
public class AppController {

    private static final String ID = UUID.randomUUID().toString();

    @Get
    @Produces(MediaType.TEXT_PLAIN)
    public String hello() {
        return "Hello from Micronaut\n";
    }

    @Get("/who")
    public Map<String, Object> who() {
        return Map.of("app", "micronaut", "id", ID, "pid", ProcessHandle.current().pid());
    }

    @Get("/crash")
    @Produces(MediaType.TEXT_PLAIN)
    public String crash() {
        new Thread(() -> {
            sleep(100);
            throw new RuntimeException("crash");
        }, "crasher").start();
        return "crashing\n";
    }

    @Get("/exit")
    @Produces(MediaType.TEXT_PLAIN)
    public String exit(@QueryValue(defaultValue = "direct") String how) {
        Exits.exitSoon(how);
        return "exiting\n";
    }

    @Get("/slow")
    @Produces(MediaType.TEXT_PLAIN)
    public CompletableFuture<String> slow(@QueryValue(defaultValue = "1000") long ms) {
        return CompletableFuture.supplyAsync(() -> "slow\n",
                CompletableFuture.delayedExecutor(ms, TimeUnit.MILLISECONDS));
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
