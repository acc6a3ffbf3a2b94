package dev.forkless.runtime;

import dev.forkless.runtime.testing.RepoFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The files that repeat the runtime's JVM options say what {@link JvmFlags} says. */
class JvmFlagsTest {

    private static String between(String text, String open, String close) {
        Matcher m = Pattern.compile(Pattern.quote(open) + "(.*?)" + Pattern.quote(close), Pattern.DOTALL).matcher(text);
        assertTrue(m.find(), "no " + open);
        return m.group(1).trim();
    }

    private static List<String> words(String text) {
        return Arrays.asList(text.trim().split("\\s+"));
    }

    @Test
    void runtimeJarsManifestOpensExportsAndAllowsWhatJvmFlagsSays() throws IOException {
        String pom = Files.readString(RepoFiles.file("runtime/pom.xml"));
        assertEquals(JvmFlags.OPENS, words(between(pom, "<Add-Opens>", "</Add-Opens>")));
        assertEquals(JvmFlags.EXPORTS, words(between(pom, "<Add-Exports>", "</Add-Exports>")));
        assertEquals(JvmFlags.NATIVE_ACCESS, between(pom, "<Enable-Native-Access>", "</Enable-Native-Access>"));
    }

    /** The flags as a command line writes them with a space: {@code --add-opens X=ALL-UNNAMED}. */
    private static List<String> spaced(List<String> flags) {
        return flags.stream().map(f -> f.startsWith("--enable-native-access") ? f : f.replaceFirst("=", " ")).toList();
    }

    @Test
    void theTestJvmsAndTheEmbeddingDocsCommandCarryEveryRuntimeFlag() throws IOException {
        String argLine = between(Files.readString(RepoFiles.file("runtime/pom.xml").getParent().getParent().resolve("pom.xml")), "<forkless.test.jvm.args>",
                "</forkless.test.jvm.args>");
        String embedding = between(Files.readString(RepoFiles.file("docs/embedding.md")), "\njava ", " -cp ")
                .replace("\\\n", " ").replaceAll("\\s+", " ");
        List<String> flags = spaced(JvmFlags.runtime());
        assertEquals(JvmFlags.OPENS.size() + JvmFlags.EXPORTS.size() + 1, flags.size());
        for (String flag : flags) {
            assertTrue(argLine.contains(flag), "pom.xml's forkless.test.jvm.args lacks " + flag);
            assertTrue(embedding.contains(flag), "docs/embedding.md's java command lacks " + flag);
        }
        assertEquals(flags.size(), Pattern.compile("--(add-opens|add-exports|enable-native-access)").matcher(embedding)
                .results().count(), "docs/embedding.md's java command has only JvmFlags.runtime(): " + embedding);
    }

    @Test
    void theCommandLineFormsAreWhatTheJvmTakes() {
        assertTrue(JvmFlags.runtime().contains("--add-opens=java.base/java.util=ALL-UNNAMED"));
        assertTrue(JvmFlags.runtime().contains("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"));
        assertEquals(List.of("--enable-native-access=ALL-UNNAMED"), JvmFlags.child());
        assertEquals(List.of("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED"),
                JvmFlags.handover());
        assertFalse(JvmFlags.runtime().stream().anyMatch(f -> f.contains(" ")));
    }
}
