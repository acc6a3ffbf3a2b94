package testapps;

import dev.forkless.api.Worker;

/**
 * A copy that tries to forge another copy's lines and take over the operator's terminal: a carriage
 * return then another copy's tag, escape sequences that clear the screen, set the window title and
 * recolour, a bell, a bidi override; then it crashes with such a message, for the event line's cause.
 */
public final class ForgingApp {

    private ForgingApp() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.out.println("honest\r[w2] forged");
        System.out.println("\u001b[2J\u001b]0;pwned\u0007\u001b[31mred");
        System.err.println("bell\u0007 rtl\u202eevil");
        System.out.print("windows line\r\n");
        System.out.flush();
        Worker.ready();
        Thread.sleep(500); // the app serves a moment after it is ready, then crashes
        throw new IllegalStateException("boom \u001b[31mred\r[w2] forged cause");
    }
}
