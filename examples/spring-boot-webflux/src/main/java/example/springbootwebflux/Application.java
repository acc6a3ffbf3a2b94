package example.springbootwebflux;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** Spring Boot WebFlux on Reactor Netty, as start.spring.io's "Spring Reactive Web" project. */
@SpringBootApplication
@RestController
public class Application {

    private static final String ID = UUID.randomUUID().toString();

    public static void main(String[] args) {
        SpringApplication.run(Application.class, portArgs(args));
    }

    @GetMapping("/")
    Mono<String> hello() {
        return Mono.just("Hello from Spring Boot WebFlux\n");
    }

    @GetMapping("/who")
    Mono<Map<String, Object>> who() {
        return Mono.just(Map.of("app", "spring-boot-webflux", "id", ID, "pid", ProcessHandle.current().pid()));
    }

    @GetMapping("/crash")
    Mono<String> crash() {
        new Thread(() -> {
            sleep(100);
            throw new RuntimeException("crash");
        }, "crasher").start();
        return Mono.just("crashing\n");
    }

    @GetMapping("/exit")
    Mono<String> exit(@RequestParam(required = false) String how) {
        Exits.exitSoon(how);
        return Mono.just("exiting\n");
    }

    @GetMapping("/slow")
    Mono<String> slow(@RequestParam(defaultValue = "1000") long ms) {
        return Mono.delay(Duration.ofMillis(ms)).thenReturn("slow\n");
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code --port N} becomes {@code --server.port=N}; the env PORT is used when no port is given. */
    static String[] portArgs(String[] args) {
        List<String> out = new ArrayList<>();
        boolean port = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--port") && i + 1 < args.length) {
                out.add("--server.port=" + args[++i]);
                port = true;
            } else {
                out.add(args[i]);
            }
        }
        String env = System.getenv("PORT");
        if (!port && env != null && !env.isBlank()) {
            out.add("--server.port=" + env);
        }
        return out.toArray(String[]::new);
    }
}
