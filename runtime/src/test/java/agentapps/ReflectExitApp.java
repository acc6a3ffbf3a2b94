package agentapps;

/**
 * Exits through reflection, which no call-site rewriting sees: under runtime.jar's agent this ends only
 * the copy. Also says which selector provider and system class loader the copy sees.
 */
public class ReflectExitApp {
    public static void main(String[] args) throws Exception {
        System.out.println("provider=" + java.nio.channels.spi.SelectorProvider.provider().getClass().getName()
                + " systemLoaderIsMine=" + (ClassLoader.getSystemClassLoader() == ReflectExitApp.class.getClassLoader()));
        Runtime.class.getMethod("exit", int.class).invoke(Runtime.getRuntime(), 3);
        System.out.println("exit returned");
    }
}
