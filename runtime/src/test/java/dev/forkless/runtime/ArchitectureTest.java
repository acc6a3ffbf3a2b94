package dev.forkless.runtime;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The module boundaries, kept honest. */
class ArchitectureTest {

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.forkless");
        // a rule over nothing would pass whatever the code does
        assertTrue(classes.stream().anyMatch(c -> c.getPackageName().startsWith("dev.forkless.isolate")));
        assertTrue(classes.stream().anyMatch(c -> c.getPackageName().startsWith("dev.forkless.runtime")));
    }

    @Test
    void isolatesNeverDependOnTheRuntime() {
        noClasses().that().resideInAnyPackage("dev.forkless.isolate..", "dev.forkless.api..")
                .should().dependOnClassesThat().resideInAPackage("dev.forkless.runtime..")
                .check(classes);
        // the importer sees cross-module dependencies: the runtime's use of the isolate is found
        assertThrows(AssertionError.class, () -> noClasses().that().resideInAPackage("dev.forkless.runtime..")
                .should().dependOnClassesThat().resideInAPackage("dev.forkless.isolate..").check(classes));
    }

    /**
     * The app's API reaches an isolate through its SPI ({@code dev.forkless.api.spi.CopyContext}, which the
     * isolate implements), never through the isolate's classes, and knows nothing of Helidon.
     */
    @Test
    void theAppApiDependsOnNoIsolateClass() {
        noClasses().that().resideInAPackage("dev.forkless.api..")
                .should().dependOnClassesThat().resideInAnyPackage("io.helidon..", "dev.forkless.isolate..")
                .check(classes);
        // the importer sees the isolate's side of the SPI: the rule looks at the right classes
        assertThrows(AssertionError.class, () -> noClasses().that().resideInAPackage("dev.forkless.isolate..")
                .should().dependOnClassesThat().resideInAPackage("dev.forkless.api.spi..").check(classes));
    }

    /** The packages of the runtime that are one concept each; the top package is the API and its wiring. */
    private static final String[] CONCEPTS = {
            "dev.forkless.runtime.supervisor..", "dev.forkless.runtime.isolatemode..",
            "dev.forkless.runtime.processmode..", "dev.forkless.runtime.child..", "dev.forkless.runtime.listen..",
            "dev.forkless.runtime.state..", "dev.forkless.runtime.log..", "dev.forkless.runtime.meter..",
            "dev.forkless.runtime.registry.."};

    /** The front ends: they may use everything, nothing uses them. */
    private static final String[] FRONT_ENDS = {
            "dev.forkless.runtime.cli..", "dev.forkless.runtime.admin..", "dev.forkless.runtime.compare.."};

    @Test
    void theRuntimesPackagesHaveNoCycles() {
        slices().matching("dev.forkless.runtime.(*)..").should().beFreeOfCycles().check(classes);
        assertTrue(classes.stream().anyMatch(c -> c.getPackageName().equals("dev.forkless.runtime.supervisor")));
    }

    /** The modules' packages (api, isolate, runtime, child) and the isolate's own sub-packages are free of cycles. */
    @Test
    void theModulesPackagesHaveNoCycles() {
        slices().matching("dev.forkless.(*)..").should().beFreeOfCycles().check(classes);
        slices().matching("dev.forkless.isolate.(*)..").should().beFreeOfCycles().check(classes);
        assertTrue(classes.stream().anyMatch(c -> c.getPackageName().equals("dev.forkless.api")));
    }

    @Test
    void nothingButTheFrontEndsUsesTheFrontEnds() {
        noClasses().that().resideOutsideOfPackages(FRONT_ENDS)
                .should().dependOnClassesThat().resideInAnyPackage(FRONT_ENDS)
                .check(classes);
    }

    @Test
    void theConceptsUseTheApisTypesNotItsFacade() {
        noClasses().that().resideInAnyPackage(CONCEPTS)
                .should().dependOnClassesThat().haveNameMatching("dev\\.forkless\\.runtime\\.Forkless(\\$.*)?")
                .because("the facade wires the concepts; they report in the API's value types (events, snapshots)")
                .check(classes);
    }

    /**
     * The embedding API (the public types of {@code dev.forkless.runtime} and their public members) has its
     * own types: nothing of the app's side ({@code dev.forkless.api}, {@code dev.forkless.isolate}) appears
     * in a signature, a supertype or a throws clause. The runtime maps at the boundary ({@link Mode} to the
     * app's {@code Worker.Mode}; a {@code BadAppException} becomes a {@link ForklessException}).
     */
    @Test
    void theEmbeddingApiExposesNoAppSideType() {
        apiMembersShouldExposeNoAppSideType("dev.forkless.runtime").check(classes);
        assertTrue(classes.get(Forkless.class).getMethods().stream().anyMatch(m -> m.getName().equals("mode")
                && m.getRawReturnType().isEquivalentTo(Mode.class)));
        // the rule sees app-side types where they are: IsolateCopy's public constructor takes an AppJar
        assertThrows(AssertionError.class, () -> apiMembersShouldExposeNoAppSideType(
                "dev.forkless.runtime.isolatemode").check(classes));
        for (String name : SHARED_WITH_THE_APP) {
            assertTrue(classes.contain(name), name); // a stale name would let a type through
        }
    }

    /**
     * App-side types the embedding API shares on purpose: a {@code Message} is one value that goes from
     * {@code Forkless.send} to the app's {@code Messages.onMessage} and back, text or bytes, the same on
     * both sides (a runtime copy of it would only be converted at every send).
     */
    private static final java.util.Set<String> SHARED_WITH_THE_APP = java.util.Set.of("dev.forkless.api.Message");

    private static com.tngtech.archunit.lang.ArchRule apiMembersShouldExposeNoAppSideType(String pkg) {
        return com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes()
                .that().resideInAPackage(pkg).and().arePublic()
                .should(new com.tngtech.archunit.lang.ArchCondition<>("expose no type of dev.forkless.api or dev.forkless.isolate") {
                    @Override
                    public void check(com.tngtech.archunit.core.domain.JavaClass type,
                                      com.tngtech.archunit.lang.ConditionEvents events) {
                        java.util.Map<String, java.util.Set<com.tngtech.archunit.core.domain.JavaClass>> exposed =
                                new java.util.LinkedHashMap<>();
                        java.util.function.BiConsumer<String, com.tngtech.archunit.core.domain.JavaType> add =
                                (where, t) -> exposed.computeIfAbsent(where, w -> new java.util.LinkedHashSet<>())
                                        .addAll(t.getAllInvolvedRawTypes());
                        type.getSuperclass().ifPresent(t -> add.accept(type.getName() + " extends", t));
                        type.getInterfaces().forEach(t -> add.accept(type.getName() + " implements", t));
                        for (var field : type.getFields()) {
                            if (field.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC)) {
                                add.accept(field.getFullName(), field.getType());
                            }
                        }
                        for (var code : type.getCodeUnits()) {
                            if (!code.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC)
                                    || code.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.SYNTHETIC)) {
                                continue;
                            }
                            add.accept(code.getFullName(), code.getReturnType());
                            code.getParameterTypes().forEach(t -> add.accept(code.getFullName(), t));
                            code.getThrowsClause().getTypes().forEach(t -> add.accept(code.getFullName(), t));
                        }
                        exposed.forEach((where, types) -> types.stream()
                                .filter(t -> t.getPackageName().startsWith("dev.forkless.api")
                                        || t.getPackageName().startsWith("dev.forkless.isolate"))
                                .filter(t -> !SHARED_WITH_THE_APP.contains(t.getName()))
                                .forEach(t -> events.add(com.tngtech.archunit.lang.SimpleConditionEvent.violated(
                                        type, where + " exposes " + t.getName()))));
                    }
                })
                .because("an embedder uses the runtime's types; the app's API is for the app inside a copy");
    }

    /** What runs in a child JVM is shaded into forkless-child.jar (runtime/pom.xml): it must find nothing else. */
    @Test
    void theChildSideUsesOnlyWhatTheChildJarHolds() {
        noClasses().that().resideInAnyPackage("dev.forkless.child..", "dev.forkless.runtime.child..")
                .should().dependOnClassesThat(com.tngtech.archunit.base.DescribedPredicate.describe(
                        "reside in the runtime outside dev.forkless.runtime.child",
                        c -> c.getPackageName().startsWith("dev.forkless.runtime")
                                && !c.getPackageName().startsWith("dev.forkless.runtime.child")))
                .check(classes);
    }

    /**
     * The documented exceptions, each a field that holds state on purpose. {@code java.lang.ForklessBridge}
     * (the agent's hooks in java.base, generated by {@code dev.forkless.isolate.JvmBridge}) is not
     * compiled, so no rule here sees it: JvmBridgeTest checks that its four hooks are all it holds.
     */
    private static final java.util.Set<String> MUTABLE_ON_PURPOSE = java.util.Set.of(
            // an app run alone (java -jar app.jar, no Forkless) has no runtime to hold its shared state:
            // its copy of the map lives here; under Forkless, isolates and child JVMs never touch it
            "dev.forkless.api.SharedState.ALONE",
            // a zero-length array: there is nothing in it to change
            "dev.forkless.isolate.AcceptDispatcher.NO_VIEWS",
            // private read-only lookup tables of the rewriter's constant-pool scan (it runs for every class
            // an isolate loads: bytes, not strings), filled once by the static initializer, never written
            "dev.forkless.isolate.CallSiteRewriter$ConstantPoolScan.OWNERS",
            "dev.forkless.isolate.CallSiteRewriter$ConstantPoolScan.NAMES",
            "dev.forkless.isolate.CallSiteRewriter$ConstantPoolScan.CATCH_TYPES",
            // the same kind of table for the scan that finds Netty's native transports in a class's bytes
            "dev.forkless.isolate.NettyNativeToNio.NAMES",
            "dev.forkless.isolate.NettyNativeToNio.AVAILABILITY",
            "dev.forkless.isolate.NettyNativeToNio.IS_AVAILABLE");

    @Test
    void theRuntimeHasNoMutableStaticState() {
        com.tngtech.archunit.lang.ArchRule rule = fields()
                .that().areDeclaredInClassesThat().resideInAnyPackage("dev.forkless.runtime..", "dev.forkless.isolate..",
                        "dev.forkless.api..", "dev.forkless.child..")
                .and().areStatic()
                .and(com.tngtech.archunit.base.DescribedPredicate.describe("not generated by the compiler",
                        field -> !field.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.SYNTHETIC)))
                .and(com.tngtech.archunit.base.DescribedPredicate.describe("not documented as mutable on purpose",
                        field -> !MUTABLE_ON_PURPOSE.contains(field.getFullName())))
                .should().beFinal()
                .andShould(HOLD_NOTHING_MUTABLE)
                .because("static state is exactly what isolates exist to contain");
        rule.check(classes);
        // the exceptions exist (a stale name would let a field through) and the rule does catch them
        for (String name : MUTABLE_ON_PURPOSE) {
            String owner = name.substring(0, name.lastIndexOf('.'));
            assertTrue(classes.get(owner).tryGetField(name.substring(name.lastIndexOf('.') + 1)).isPresent(), name);
        }
        AssertionError caught = assertThrows(AssertionError.class, () -> fields()
                .that().areDeclaredInClassesThat().haveFullyQualifiedName("dev.forkless.api.SharedState")
                .and().areStatic().should(HOLD_NOTHING_MUTABLE).check(classes));
        assertTrue(caught.getMessage().contains("ALONE"), caught.getMessage());
    }

    /**
     * A static final field must not hold state either: no array, no atomic, no builder, no collection or
     * map that its class's static initializer builds mutable. (A collection built with {@code List.of},
     * {@code Map.copyOf} and the like is immutable.)
     */
    private static final com.tngtech.archunit.lang.ArchCondition<com.tngtech.archunit.core.domain.JavaField>
            HOLD_NOTHING_MUTABLE = new com.tngtech.archunit.lang.ArchCondition<>("hold nothing mutable") {
        @Override
        public void check(com.tngtech.archunit.core.domain.JavaField field,
                          com.tngtech.archunit.lang.ConditionEvents events) {
            com.tngtech.archunit.core.domain.JavaClass type = field.getRawType();
            String why = null;
            if (type.isArray()) {
                why = "an array";
            } else if (type.getPackageName().equals("java.util.concurrent.atomic")) {
                why = "an atomic";
            } else if (type.isAssignableTo(StringBuilder.class) || type.isAssignableTo(java.util.BitSet.class)) {
                why = "a mutable " + type.getSimpleName();
            } else if (type.isAssignableTo(java.util.Collection.class) || type.isAssignableTo(java.util.Map.class)) {
                why = mutableCollectionBuiltFor(field);
            }
            if (why != null) {
                events.add(com.tngtech.archunit.lang.SimpleConditionEvent.violated(field,
                        field.getFullName() + " holds " + why));
            }
        }
    };

    /** @return how the field's class builds a mutable collection for it in its static initializer, or null */
    private static String mutableCollectionBuiltFor(com.tngtech.archunit.core.domain.JavaField field) {
        if (!field.getRawType().isInterface()) {
            return "a " + field.getRawType().getSimpleName(); // a concrete type: mutable unless proven otherwise
        }
        var initializer = field.getOwner().getStaticInitializer();
        if (initializer.isEmpty()) {
            return null;
        }
        // the value set last before the field is written: a constructor of a collection or map, unwrapped
        var sets = initializer.get().getFieldAccesses().stream()
                .filter(access -> access.getAccessType() == com.tngtech.archunit.core.domain.JavaFieldAccess.AccessType.SET)
                .filter(access -> access.getTarget().getName().equals(field.getName())
                        && access.getTarget().getOwner().equals(field.getOwner()))
                .toList();
        for (var set : sets) {
            int line = set.getLineNumber();
            for (var call : initializer.get().getConstructorCallsFromSelf()) {
                var built = call.getTargetOwner();
                if (call.getLineNumber() == line && (built.isAssignableTo(java.util.Collection.class)
                        || built.isAssignableTo(java.util.Map.class))) {
                    boolean wrapped = initializer.get().getMethodCallsFromSelf().stream()
                            .anyMatch(m -> m.getLineNumber() == line && IMMUTABLE_COPIES.contains(
                                    m.getTargetOwner().getName() + "." + m.getName()));
                    if (!wrapped) {
                        return "a " + built.getSimpleName() + " (line " + line + ")";
                    }
                }
            }
        }
        return null;
    }

    /** Calls that make an immutable copy of whatever they are given. */
    private static final java.util.Set<String> IMMUTABLE_COPIES = java.util.Set.of(
            "java.util.List.copyOf", "java.util.Set.copyOf", "java.util.Map.copyOf",
            "java.util.Collections.unmodifiableList", "java.util.Collections.unmodifiableSet",
            "java.util.Collections.unmodifiableMap", "java.util.Collections.unmodifiableSortedMap",
            "java.util.Collections.unmodifiableNavigableMap", "java.util.Collections.unmodifiableSortedSet");
}
