package testapps;

/** Starts a thread that spins in a loop for args[0] ms (or forever), then says it is ready. */
public class SpinApp {
    public static volatile long counter;

    public static void main(String[] args) {
        long until = args.length == 0 ? Long.MAX_VALUE : System.nanoTime() + Long.parseLong(args[0]) * 1_000_000;
        Thread spinner = new Thread(() -> {
            long x = 0;
            while (System.nanoTime() < until) {
                x = (x + 1) & Long.MAX_VALUE;
                counter = x;
            }
        }, "spinner");
        spinner.setDaemon(true);
        spinner.start();
        dev.forkless.api.Worker.ready();
    }
}
