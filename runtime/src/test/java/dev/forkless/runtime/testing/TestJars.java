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

    /** Copies the demo as one flat jar to {@code jar}, replacing it in one step. */
    public static Path demoCopy(Path jar) throws IOException {
        Path tmp = Files.createTempFile(jar.getParent(), "demo", ".jar");
        Files.copy(RuntimeProcess.artifact("forkless.demo.fatjar"), tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return Files.move(tmp, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
