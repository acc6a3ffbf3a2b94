package testapps;

import java.util.concurrent.Callable;

/** A loop of app code that some other code may call: it sums 1 to 1000. */
public class CountingTask implements Callable<Long> {

    @Override
    public Long call() {
        long sum = 0;
        for (int i = 1; i <= 1000; i++) {
            sum += i;
        }
        return sum;
    }
}
