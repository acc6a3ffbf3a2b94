package dev.forkless.runtime.examples;

import dev.forkless.runtime.testing.RuntimeProcess;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One app of the examples module (or the demo), as a user would run it: the jar its framework's build
 * makes, the arguments it takes, and the paths of its endpoints.
 *
 * @param name      the name in the matrix (docs/compatibility.md)
 * @param jar       the jar, relative to the examples folder ({@code forkless.examples.dir}), or absolute
 * @param args      the app's own arguments after {@code --port P}
 * @param whoPath   the path that answers with a per-copy id
 * @param faultCode the status of {@code /crash} and {@code /exit} (the demo answers 202, the examples 200)
 */
record ExampleApp(String name, String jar, List<String> args, String whoPath, int faultCode) {

    static ExampleApp example(String name, String jar, String... args) {
        return new ExampleApp(name, jar, List.of(args), "/who", 200);
    }

    /** The Helidon 4.5 demo of this repository: /whoami, and 202 for its faults. */
    static ExampleApp demo() {
        return new ExampleApp("helidon-4.5-demo", RuntimeProcess.demoJar().toString(), List.of(), "/whoami", 202);
    }

    /** @return the built jar; fails with how to build it when it is missing */
    Path path() {
        Path path = Path.of(jar);
        if (!path.isAbsolute()) {
            path = RuntimeProcess.artifact("forkless.examples.dir").resolve(jar);
        }
        if (!Files.isRegularFile(path)) {
            throw new AssertionError(path + " is missing: build the examples first (mvn -pl examples -amd package, "
                    + "or ./dev build)");
        }
        return path;
    }

    @Override
    public String toString() {
        return name;
    }
}
