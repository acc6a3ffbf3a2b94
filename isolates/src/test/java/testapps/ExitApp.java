package testapps;

/** Calls System.exit with its first argument; a JVM would end here. */
public class ExitApp {
    public static void main(String[] args) {
        System.exit(Integer.parseInt(args[0]));
        throw new AssertionError("System.exit returned");
    }
}
