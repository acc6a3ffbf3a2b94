package testapps;

import dev.forkless.api.Messages;
import dev.forkless.api.SharedState;
import dev.forkless.api.Worker;

import java.util.concurrent.CountDownLatch;

/**
 * A copy that talks to its runtime: echoes every message, floods the runtime on {@code flood N}, sets
 * shared state on {@code put KEY VALUE}, reports every shared-state change, and says hello at start
 * with the value of {@code color} it sees.
 */
public final class MessagingApp {

    private MessagingApp() {
    }

    public static void main(String[] args) throws InterruptedException {
        Messages.onMessage(message -> {
            String text = message.isText() ? message.text() : "";
            if (text.startsWith("flood ")) {
                int n = Integer.parseInt(text.substring(6));
                for (int i = 0; i < n; i++) {
                    Messages.send("f " + i);
                }
            } else if (text.startsWith("put ")) {
                String[] words = text.split(" ");
                SharedState.put(words[1], words[2]);
                Messages.send("put done " + words[1] + " sees " + SharedState.get(words[1]));
            } else if (text.startsWith("get ")) {
                Messages.send("value " + SharedState.get(text.substring(4)));
            } else {
                Messages.send(message);
            }
        });
        SharedState.onChange((key, value) -> Messages.send("changed " + key + "=" + value));
        Messages.send("hello color=" + SharedState.get("color"));
        Worker.ready();
        new CountDownLatch(1).await();
    }
}
