package example.springboottomcat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Spring Boot on Tomcat, as start.spring.io's "Spring Web" project. {@code --port N} means --server.port=N. */
@SpringBootApplication
@RestController
public class Application {

    private static final String ID = UUID.randomUUID().toString();

    public static void main(String[] args) {
        SpringApplication.run(Application.class, portArgs(args));
    }

    @GetMapping("/")
    String hello() {
        return "Hello from Spring Boot on Tomcat\n";
    }

    @GetMapping("/who")
    Map<String, Object> who() {
        return Map.of("app", "spring-boot-tomcat", "id", ID, "pid", ProcessHandle.current().pid());
    }

    @GetMapping("/crash")
    String crash() {
        new Thread(() -> {
            sleep(100);
            throw new RuntimeException("crash");
        }, "crasher").start();
        return "crashing\n";
    }

    @GetMapping("/exit")
    String exit(@RequestParam(required = false) String how) {
        Exits.exitSoon(how);
        return "exiting\n";
    }

    @GetMapping("/slow")
    String slow(@RequestParam(defaultValue = "1000") long ms) {
        sleep(ms);
        return "slow\n";
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
