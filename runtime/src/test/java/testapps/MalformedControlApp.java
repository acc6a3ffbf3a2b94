package testapps;

import dev.forkless.api.Worker;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * A process-mode copy whose control channel carries a line that is no message (as a bug, or an app
 * writing on the channel, would): the first copy (no file at {@code args[0]} yet) writes
 * {@code stats 1 two 3 4} on it, then every copy just stays up, ready.
 */
public final class MalformedControlApp {

    private MalformedControlApp() {
    }

    public static void main(String[] args) throws Exception {
        Worker.ready();
        Path once = Path.of(args[0]);
        if (!Files.exists(once)) {
            Files.writeString(once, "sent");
            Class<?> copyType = Class.forName("dev.forkless.child.ChildCopy");
            Object copy = copyType.getMethod("current").invoke(null);
            Field control = copyType.getDeclaredField("control");
            control.setAccessible(true);
            Class.forName("dev.forkless.runtime.child.Unix").getMethod("send", int.class, byte[].class, int.class)
                    .invoke(null, control.getInt(copy), "stats 1 two 3 4\n".getBytes(StandardCharsets.UTF_8), -1);
        }
        new CountDownLatch(1).await();
    }
}
