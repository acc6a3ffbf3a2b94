package dev.forkless.isolate;

import dev.forkless.api.spi.CopyContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.MethodModel;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.net.URL;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.CodeSource;
import java.security.SecureClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipFile;

/**
 * The class loader of one isolate: child-first over the app's jars.
 *
 * <p>Only two kinds of class come from outside the app's jars: the JDK's own (every package of a module
 * the boot or platform loader defines, so an app can never shadow {@code java.*} or {@code javax.*}),
 * and Forkless's isolate packages ({@code dev.forkless.api}, {@code dev.forkless.isolate}), which the
 * host's loader defines once for every isolate. Every other class, Helidon included, is defined here,
 * from the app's own jars, so each isolate has its own statics.
 *
 * <p>Every class defined here goes through the {@link CallSiteRewriter}, which sends the calls that
 * would reach past the isolate ({@code System.exit}, opening a listening socket, ...) to the isolate.
 *
 * <p>The Helidon adapter ({@code dev.forkless.isolate.helidon}) is the one Forkless package defined
 * inside each isolate, because it links against the app's own Helidon.
 */
public final class IsolateClassLoader extends SecureClassLoader implements AutoCloseable, CopyContext.Loader {

    static {
        registerAsParallelCapable();
    }

    /** Packages of the JDK's boot and platform modules: always loaded from the JDK. */
    private static final Set<String> JDK_PACKAGES = jdkPackages();
    private static final String API_PREFIX = "dev.forkless.api.";
    private static final String ISOLATE_PREFIX = "dev.forkless.isolate.";
    private static final String ADAPTER_PREFIX = "dev.forkless.isolate.helidon.";
    private static final String ADAPTER_SERVICES = "dev/forkless/isolate/helidon/services/";
    private static final String SERVICES = "META-INF/services/";

    private static final String HELIDON_FEATURES = "io.helidon.webserver.spi.ServerFeatureProvider";
    /** What the Helidon adapter links against: present in every Helidon 4 from 4.0 to 4.5. */
    private static final List<String> ADAPTER_NEEDS = List.of(
            HELIDON_FEATURES,
            "io.helidon.webserver.spi.ServerFeature",
            "io.helidon.webserver.http.HttpFeature",
            "io.helidon.webserver.http.FilterChain",
            "io.helidon.webserver.http.RoutingResponse",
            "io.helidon.webserver.CloseConnectionException",
            "io.helidon.http.HeaderValues",
            "io.helidon.common.config.Config");
    private static final System.Logger LOG = System.getLogger("forkless.isolate");

    private final Isolate isolate;
    private final ClassLoader host;
    /** Whether the app's Helidon has what the adapter needs; {@code null} until first asked. */
    private volatile Boolean adapterLinks;
    private final List<Jar> jars;
    private final CallSiteRewriter rewriter;
    private final String version;
    private volatile boolean closed;
    /** Whether this copy said that its app's Netty native transport runs on NIO (said once). */
    private final java.util.concurrent.atomic.AtomicBoolean nettyNativeSaid = new java.util.concurrent.atomic.AtomicBoolean();

    IsolateClassLoader(Isolate isolate, List<Path> classPath, ClassLoader host, CallSiteRewriter rewriter) {
        super("isolate-" + isolate.id(), ClassLoader.getPlatformClassLoader());
        this.isolate = isolate;
        this.host = host;
        this.rewriter = rewriter;
        List<Jar> opened = new ArrayList<>();
        try {
            for (Path path : classPath) {
                opened.add(Jar.open(path));
            }
        } catch (IOException e) {
            opened.forEach(Jar::close);
            throw new BadAppException("cannot open " + e.getMessage(), e);
        }
        this.jars = List.copyOf(opened);
        this.version = versionOf(classPath);
    }

    /**
     * The version of a class path: each jar's path, size, modification time and file key. Copies started
     * from the same jars share their rewritten classes; a jar replaced on disk is a new version.
     */
    private static String versionOf(List<Path> classPath) {
        StringBuilder version = new StringBuilder();
        for (Path path : classPath) {
            try {
                var attributes = java.nio.file.Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class);
                version.append(path.toAbsolutePath()).append('|').append(attributes.size()).append('|')
                        .append(attributes.lastModifiedTime().toMillis()).append('|').append(attributes.fileKey()).append('\n');
            } catch (IOException e) {
                return null; // cannot tell: do not share
            }
        }
        return version.toString();
    }

    /**
     * Says once per copy that the app's code asks for a Netty native transport, which runs on NIO
     * ({@link NettyNativeToNio}).
     *
     * @param className the class's name
     * @param bytes     its class file as read
     * @param rewritten as rewritten
     */
    void noteNettyNative(String className, byte[] bytes, byte[] rewritten) {
        if (rewritten == bytes || nettyNativeSaid.get()) {
            return;
        }
        String transport = NettyNativeToNio.transportNamed(className, bytes);
        if (transport != null && nettyNativeSaid.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, NettyNativeToNio.message("isolate=" + isolate.id(), transport, className));
        }
    }

    /** @return the version of this loader's class path ({@code null}: unknown), under which rewrites are shared */
    String version() {
        return version;
    }

    /** @return the rewriter of the classes this loader defines (the agent uses it for loaders below this one) */
    CallSiteRewriter rewriter() {
        return rewriter;
    }

    /** @return the isolate this loader belongs to */
    public Isolate isolate() {
        return isolate;
    }

    @Override
    public CopyContext copyContext() {
        return isolate;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                if (isJdk(name)) {
                    c = getParent().loadClass(name);
                } else if (isHostShared(name)) {
                    c = host.loadClass(name);
                } else {
                    c = findClass(name);
                }
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        if (closed) {
            throw new ClassNotFoundException(name + " (isolate " + isolate.id() + " is unloaded)");
        }
        String entryName = name.replace('.', '/') + ".class";
        if (name.startsWith(ADAPTER_PREFIX)) {
            return defineAdapter(name, entryName);
        }
        for (Jar jar : jars) {
            JarEntry entry = jar.file.getJarEntry(entryName);
            if (entry != null) {
                byte[] bytes;
                try (InputStream in = jar.file.getInputStream(entry)) {
                    bytes = in.readAllBytes();
                } catch (IOException e) {
                    throw new ClassNotFoundException(name, e);
                }
                definePackageOf(name, jar);
                byte[] rewritten;
                try {
                    rewritten = rewriter.rewrite(version, "", name, bytes, this::classBytes);
                } catch (RuntimeException malformed) {
                    throw new ClassFormatError(name + " in " + jar.url() + ": " + malformed.getMessage());
                }
                noteNettyNative(name, bytes, rewritten);
                return defineClass(name, rewritten, 0, rewritten.length, jar.codeSource());
            }
        }
        throw new ClassNotFoundException(name);
    }

    private Class<?> defineAdapter(String name, String entryName) throws ClassNotFoundException {
        try (InputStream in = host.getResourceAsStream(entryName)) {
            if (in == null) {
                throw new ClassNotFoundException(name);
            }
            byte[] bytes = dropUnlinkableBridges(in.readAllBytes());
            return defineClass(name, bytes, 0, bytes.length);
        } catch (IOException e) {
            throw new ClassNotFoundException(name, e);
        }
    }

    /**
     * The adapter is compiled against the newest Helidon 4; the compiler adds bridge methods for types
     * that older 4.x releases lack (4.5's {@code io.helidon.config.NamedService}), which would fail the
     * class's verification there. Bridges naming a type this isolate cannot see are dropped: the older
     * Helidon never calls them.
     */
    private byte[] dropUnlinkableBridges(byte[] bytes) {
        ClassFile cf = ClassFile.of();
        ClassModel model = cf.parse(bytes);
        boolean any = model.methods().stream().anyMatch(this::unlinkableBridge);
        return any ? cf.transformClass(model, ClassTransform.dropping(
                e -> e instanceof MethodModel m && unlinkableBridge(m))) : bytes;
    }

    private boolean unlinkableBridge(MethodModel method) {
        if ((method.flags().flagsMask() & ClassFile.ACC_BRIDGE) == 0) {
            return false;
        }
        MethodTypeDesc type = method.methodTypeSymbol();
        if (!visible(type.returnType())) {
            return true;
        }
        for (ClassDesc parameter : type.parameterList()) {
            if (!visible(parameter)) {
                return true;
            }
        }
        return false;
    }

    private boolean visible(ClassDesc type) {
        ClassDesc element = type;
        while (element.isArray()) {
            element = element.componentType();
        }
        if (element.isPrimitive()) {
            return true;
        }
        String internal = element.descriptorString();
        String entryName = internal.substring(1, internal.length() - 1) + ".class";
        String className = entryName.substring(0, entryName.length() - 6).replace('/', '.');
        if (isJdk(className)) {
            return getParent().getResource(entryName) != null;
        }
        if (isHostShared(className)) {
            return true;
        }
        // the app's own jars only: the runtime's jar may carry another Helidon of its own
        for (Jar jar : jars) {
            if (jar.file.getJarEntry(entryName) != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the app's own Helidon has every type the Helidon adapter links against (any 4.x does);
     * when it does not, the adapter is not offered, and the log says so once.
     */
    private boolean adapterLinks(String service) {
        if (!service.equals(HELIDON_FEATURES)) {
            return true;
        }
        Boolean links = adapterLinks;
        if (links == null) {
            List<String> missing = new ArrayList<>();
            for (String type : ADAPTER_NEEDS) {
                if (!visible(ClassDesc.of(type))) {
                    missing.add(type);
                }
            }
            links = missing.isEmpty();
            adapterLinks = links;
            if (!links) {
                LOG.log(System.Logger.Level.WARNING, "isolate " + isolate.id() + ": the app's Helidon lacks "
                        + String.join(", ", missing) + "; the copy runs without Forkless's Helidon drain adapter"
                        + " (its drain is the generic one: its own shutdown, then its connections close)");
            }
        }
        return links;
    }

    private void definePackageOf(String className, Jar jar) {
        int dot = className.lastIndexOf('.');
        if (dot < 0) {
            return;
        }
        String pkg = className.substring(0, dot);
        if (getDefinedPackage(pkg) == null) {
            try {
                Manifest manifest = jar.manifest();
                if (manifest != null) {
                    definePackage(pkg, manifest, jar.url);
                } else {
                    definePackage(pkg, null, null, null, null, null, null, null);
                }
            } catch (IllegalArgumentException raced) {
                // another thread defined it first
            }
        }
    }

    private void definePackage(String pkg, Manifest manifest, URL url) {
        var main = manifest.getMainAttributes();
        var attrs = manifest.getAttributes(pkg.replace('.', '/') + "/");
        java.util.function.Function<java.util.jar.Attributes.Name, String> attr = n -> {
            String v = attrs == null ? null : attrs.getValue(n);
            return v != null ? v : main.getValue(n);
        };
        definePackage(pkg,
                attr.apply(java.util.jar.Attributes.Name.SPECIFICATION_TITLE),
                attr.apply(java.util.jar.Attributes.Name.SPECIFICATION_VERSION),
                attr.apply(java.util.jar.Attributes.Name.SPECIFICATION_VENDOR),
                attr.apply(java.util.jar.Attributes.Name.IMPLEMENTATION_TITLE),
                attr.apply(java.util.jar.Attributes.Name.IMPLEMENTATION_VERSION),
                attr.apply(java.util.jar.Attributes.Name.IMPLEMENTATION_VENDOR),
                null);
    }

    @Override
    protected URL findResource(String name) {
        if (closed) {
            return null;
        }
        for (Jar jar : jars) {
            URL url = jar.resource(name);
            if (url != null) {
                return url;
            }
        }
        return null;
    }

    @Override
    protected Enumeration<URL> findResources(String name) {
        if (closed) {
            return Collections.emptyEnumeration();
        }
        List<URL> urls = new ArrayList<>();
        for (Jar jar : jars) {
            URL url = jar.resource(name);
            if (url != null) {
                urls.add(url);
            }
        }
        if (name.startsWith(SERVICES)) {
            // Forkless's adapters announce themselves to the app's own service discovery.
            String service = name.substring(SERVICES.length());
            URL adapter = host.getResource(ADAPTER_SERVICES + service);
            if (adapter != null && adapterLinks(service)) {
                urls.add(adapter);
            }
        }
        return Collections.enumeration(urls);
    }

    /**
     * The bytes of a class as this isolate sees it, for the rewriter's class hierarchy; {@code null}
     * when no class of that name is visible here.
     */
    InputStream classBytes(ClassDesc desc) {
        String internal = desc.descriptorString();
        String entryName = internal.substring(1, internal.length() - 1) + ".class";
        String className = entryName.substring(0, entryName.length() - 6).replace('/', '.');
        if (!isJdk(className) && !isHostShared(className)) {
            for (Jar jar : jars) {
                JarEntry entry = jar.file.getJarEntry(entryName);
                if (entry != null) {
                    try {
                        return jar.file.getInputStream(entry);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
        ClassLoader from = isJdk(className) ? getParent() : host;
        return from.getResourceAsStream(entryName);
    }

    /** @return a resolver of this isolate's class hierarchy, for code generation */
    ClassHierarchyResolver hierarchy() {
        return ClassHierarchyResolver.ofResourceParsing(this::classBytes);
    }

    /**
     * Closes the app's jars. Classes already defined keep working; no new class can be loaded. The
     * loader itself is collected once nothing refers to it or to a class it defined.
     */
    @Override
    public void close() {
        closed = true;
        jars.forEach(Jar::close);
    }

    /** @return whether {@link #close()} was called */
    public boolean isClosed() {
        return closed;
    }

    /** Forkless's isolate packages, defined once by the host for every isolate; not the Helidon adapter. */
    private static boolean isHostShared(String className) {
        return className.startsWith(API_PREFIX)
                || (className.startsWith(ISOLATE_PREFIX) && !className.startsWith(ADAPTER_PREFIX)
                    && className.indexOf('.', ISOLATE_PREFIX.length()) < 0);
    }

    private static boolean isJdk(String className) {
        int dot = className.lastIndexOf('.');
        return dot > 0 && JDK_PACKAGES.contains(className.substring(0, dot));
    }

    private static Set<String> jdkPackages() {
        Set<String> packages = new HashSet<>();
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        for (Module module : ModuleLayer.boot().modules()) {
            ClassLoader loader = module.getClassLoader();
            if (loader == null || loader == platform) {
                packages.addAll(module.getPackages());
            }
        }
        return Set.copyOf(packages);
    }

    /** One jar of the app's class path, opened once for the life of the isolate. */
    private record Jar(JarFile file, URL url, CodeSource codeSource, JarResources resources) {

        static Jar open(Path path) throws IOException {
            JarFile file;
            try {
                file = new JarFile(path.toFile(), true, ZipFile.OPEN_READ, Runtime.version());
            } catch (IOException e) {
                throw new IOException(path + ": " + e.getMessage(), e);
            }
            URL url = path.toUri().toURL();
            return new Jar(file, url, new CodeSource(url, (CodeSigner[]) null), new JarResources(file, path));
        }

        Manifest manifest() {
            try {
                return file.getManifest();
            } catch (IOException e) {
                return null;
            }
        }

        URL resource(String name) {
            return resources.find(name);
        }

        void close() {
            try {
                file.close();
            } catch (IOException ignored) {
                // closing is best effort: the loader is being dropped
            }
        }
    }
}
