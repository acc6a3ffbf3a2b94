package testplugin;

import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * A JUL handler a loader below the copy's own defines, as Spring Boot's launcher defines jul-to-slf4j's
 * {@code SLF4JBridgeHandler}: the copy puts it on the JVM's root logger, so every copy's records run through
 * its loop (which the agent gives a loop check).
 */
public class BridgeHandler extends Handler {

    public static volatile long published;

    @Override
    public void publish(LogRecord record) {
        long sum = 0;
        for (char c : String.valueOf(record.getMessage()).toCharArray()) {
            sum += c;
        }
        published += sum;
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
