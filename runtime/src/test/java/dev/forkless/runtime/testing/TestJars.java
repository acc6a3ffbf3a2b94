package dev.forkless.runtime.testing;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.reflect.AccessFlag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Jars made for tests. */
public final class TestJars {

    private TestJars() {
    }

    /** Writes a runnable jar whose {@code main} throws at once: a broken build. */
    public static Path brokenApp(Path jar) throws IOException {
        ClassDesc main = ClassDesc.of("broken.Main");
        ClassDesc exception = ClassDesc.of("java.lang.IllegalStateException");
        byte[] bytes = ClassFile.of().build(main, cb -> cb
                .withFlags(AccessFlag.PUBLIC)
                .withMethodBody("main", MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_String.arrayType()),
                        ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> code
                                .new_(exception)
                                .dup()
                                .ldc("broken build: main fails at start")
                                .invokespecial(exception, "<init>", MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_String))
                                .athrow()));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "broken.Main");
        Path tmp = Files.createTempFile(jar.getParent(), "broken", ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(tmp), manifest)) {
            out.putNextEntry(new JarEntry("broken/Main.class"));
            out.write(bytes);
            out.closeEntry();
        }
        return Files.move(tmp, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Writes a jar whose main class {@code odd.Main} has a {@code main(String[])} with the given access
     * flags, and a constructor with the given flags (none when {@code constructorFlags} is negative).
     */
    public static Path oddMain(Path jar, int mainFlags, int constructorFlags) throws IOException {
        ClassDesc main = ClassDesc.of("odd.Main");
        byte[] bytes = ClassFile.of().build(main, cb -> {
            cb.withFlags(AccessFlag.PUBLIC);
            if (constructorFlags >= 0) {
                cb.withMethodBody("<init>", MethodTypeDesc.of(ConstantDescs.CD_void), constructorFlags, code -> code
                        .aload(0)
                        .invokespecial(ConstantDescs.CD_Object, "<init>", MethodTypeDesc.of(ConstantDescs.CD_void))
                        .return_());
            }
            cb.withMethodBody("main", MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_String.arrayType()),
                    mainFlags, code -> code.return_());
        });
        return write(jar, "odd.Main", "odd/Main.class", bytes);
    }

    /** Writes a jar whose main class file is not a class file at all. */
    public static Path garbageMain(Path jar) throws IOException {
        return write(jar, "odd.Main", "odd/Main.class", "this is not a class file".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static Path write(Path jar, String mainClass, String entry, byte[] bytes) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.putNextEntry(new JarEntry(entry));
            out.write(bytes);
            out.closeEntry();
        }
        return jar;
    }

    /** Copies the demo as one flat jar to {@code jar}, replacing it in one step. */
    public static Path demoCopy(Path jar) throws IOException {
        Path tmp = Files.createTempFile(jar.getParent(), "demo", ".jar");
        Files.copy(RuntimeProcess.artifact("forkless.demo.fatjar"), tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return Files.move(tmp, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Writes a runnable jar of a test app of this module ({@code testapps.*}): the isolate loader reads
     * jars, not class folders.
     *
     * @param jar       where
     * @param mainClass the app's main class, in package {@code testapps}
     * @return the jar
     */
    public static Path testApp(Path jar, Class<?> mainClass) throws IOException {
        Path classes;
        try {
            classes = Path.of(mainClass.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, mainClass.getName());
        String prefix = mainClass.getName().replace('.', '/');
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest);
             var files = Files.list(classes.resolve(prefix).getParent())) {
            for (Path file : files.toList()) {
                String name = classes.relativize(file).toString().replace(java.io.File.separatorChar, '/');
                if (name.startsWith(prefix) && name.endsWith(".class")) {
                    out.putNextEntry(new JarEntry(name));
                    out.write(Files.readAllBytes(file));
                    out.closeEntry();
                }
            }
        }
        return jar;
    }
}
