package dev.forkless.runtime.processmode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The child agent jar ({@code forkless-child.jar}), which runtime.jar carries as a resource: written
 * once to {@code ~/.forkless/cache/forkless-child-HASH.jar}, named by its content's hash, so every
 * runtime of one version shares one file, a new version writes its own, and a killed runtime leaves
 * nothing that grows. Children name it in {@code -javaagent:}.
 */
final class ChildAgentJar {

    static final String RESOURCE = "/META-INF/forkless/forkless-child.jar";

    private ChildAgentJar() {
    }

    /**
     * Run from a build's class folder or its thin jar (tests, programs that embed the runtime from the
     * build): the agent jar the build wrote next to it, {@code target/forkless-child.jar}.
     */
    private static Path besideClasses() {
        try {
            Path classes = Path.of(ChildAgentJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path jar = classes.resolveSibling("forkless-child.jar");
            return Files.isRegularFile(jar) ? jar : null;
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /** @return the agent jar on disk, written if it is not there yet */
    static Path path() {
        byte[] bytes;
        try (InputStream in = ChildAgentJar.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                Path built = besideClasses();
                if (built == null) {
                    throw new IllegalStateException("this build of Forkless has no child agent (" + RESOURCE
                            + "): process mode needs runtime.jar as packaged");
                }
                return built;
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Path dir = dev.forkless.runtime.registry.ForklessHome.current().cache();
        Path jar = dir.resolve("forkless-child-" + hash + ".jar");
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "forkless-child-", ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the child agent to " + jar, e);
        }
        return jar;
    }
}
