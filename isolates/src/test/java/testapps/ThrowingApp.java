package testapps;

/** main throws. */
public class ThrowingApp {
    public static void main(String[] args) {
        throw new IllegalStateException("main failed on purpose");
    }
}
