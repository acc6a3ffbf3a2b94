package dev.forkless.runtime.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The client commands' {@code [APP] VALUE} parameters: bad usage is one line and exit 2, before any lookup. */
class ClientCommandsTest {

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(code), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void moreThanAnAppAndAValueIsBadUsage() {
        String[] scale = run("scale", "shop", "2", "3");
        assertEquals("2", scale[0]);
        assertEquals("forkless: scale takes at most an app and a value, not 3 words (see --help)\n", scale[1]);
        String[] restart = run("restart", "a", "b", "c", "d");
        assertEquals("2", restart[0]);
        assertEquals("forkless: restart takes at most an app and a value, not 4 words (see --help)\n", restart[1]);
        String[] none = run("scale");
        assertEquals("2", none[0]);
        assertEquals(1, none[1].lines().count(), none[1]);
    }

    @Test
    void theAppAndTheValueAreToldApart() {
        assertEquals(java.util.Optional.empty(), ClientCommands.appOf("scale", java.util.List.of("4")));
        assertEquals(java.util.Optional.of("shop"), ClientCommands.appOf("scale", java.util.List.of("shop", "4")));
    }
}
