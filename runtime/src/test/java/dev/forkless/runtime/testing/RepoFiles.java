package dev.forkless.runtime.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of the repository that tests check, such as the deployment examples under docs/. */
public final class RepoFiles {

    private RepoFiles() {
    }

    /**
     * @param relative a path from the repository's root, e.g. {@code docs/deploy/nginx.conf}
     * @return that file, found from the test's working directory (a module's folder) upwards
     */
    public static Path file(String relative) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(relative);
            if (Files.exists(candidate) && Files.exists(dir.resolve("pom.xml"))) {
                return candidate;
            }
        }
        throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
    }
}
