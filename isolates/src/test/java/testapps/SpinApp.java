package testapps;

/** Starts a thread that spins in a loop for args[0] ms (or until {@link #stop}), then says it is ready. */
public class SpinApp {
    public static volatile long counter;
    /** Set (by the test, through the copy's loader) to end the spinner that loop checks did not. */
    public static volatile boolean stop;

    public static void main(String[] args) {
        long until = args.length == 0 ? Long.MAX_VALUE : System.nanoTime() + Long.parseLong(args[0]) * 1_000_000;
        Thread spinner = new Thread(() -> {
            long x = 0;
            while (!stop && System.nanoTime() < until) {
                x = (x + 1) & Long.MAX_VALUE;
                counter = x;
            }
        }, "spinner");
        spinner.setDaemon(true);
        spinner.start();
        dev.forkless.api.Worker.ready();
    }
}
