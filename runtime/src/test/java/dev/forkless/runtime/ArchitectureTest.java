package dev.forkless.runtime;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
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

    @Test
    void theAppApiDependsOnNothingButTheIsolate() {
        noClasses().that().resideInAPackage("dev.forkless.api..")
                .should().dependOnClassesThat().resideInAnyPackage("io.helidon..", "dev.forkless.isolate.helidon..")
                .check(classes);
    }

    @Test
    void theRuntimeHasNoMutableStaticState() {
        fields().that().areDeclaredInClassesThat().resideInAnyPackage("dev.forkless.runtime..", "dev.forkless.isolate..",
                        "dev.forkless.api..")
                .and().areStatic()
                .should().beFinal()
                .because("static state is exactly what isolates exist to contain")
                .check(classes);
        // THE exception: the agent's bridge in java.base (dev.forkless.isolate.JvmBridge) is generated, not
        // compiled, so this rule does not see it; JvmBridgeTest checks that its four hooks are all it holds.
    }
}
