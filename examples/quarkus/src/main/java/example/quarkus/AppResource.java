package example.quarkus;

import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A Quarkus REST resource, as code.quarkus.io's starter. */
@Path("/")
public class AppResource {

    private static final String ID = UUID.randomUUID().toString();

    @GET
    @Produces(MediaType.TEXT_PLAIN)
    public String hello() {
        return "Hello from Quarkus\n";
    }

    @GET
    @Path("who")
    @Produces(MediaType.APPLICATION_JSON)
    public String who() {
        return "{\"app\":\"quarkus\",\"id\":\"" + ID + "\",\"pid\":" + ProcessHandle.current().pid() + "}";
    }

    @GET
    @Path("crash")
    @Produces(MediaType.TEXT_PLAIN)
    public String crash() {
        new Thread(() -> {
            sleep(100);
            throw new RuntimeException("crash");
        }, "crasher").start();
        return "crashing\n";
    }

    @GET
    @Path("exit")
    @Produces(MediaType.TEXT_PLAIN)
    public String exit(@QueryParam("how") String how) {
        Exits.exitSoon(how);
        return "exiting\n";
    }

    @GET
    @Path("slow")
    @Produces(MediaType.TEXT_PLAIN)
    public CompletionStage<String> slow(@QueryParam("ms") @DefaultValue("1000") long ms) {
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
