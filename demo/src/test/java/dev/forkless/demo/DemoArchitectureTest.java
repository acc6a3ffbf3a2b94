package dev.forkless.demo;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;

import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo is an ordinary app: of Forkless it uses only the small app API. */
class DemoArchitectureTest {

    @Test
    void demoUsesNothingOfOursButTheApi() {
        JavaClasses demo = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.forkless.demo");
        assertTrue(demo.contain(DemoMain.class), "the demo's classes were imported");
        ArchRule onlyTheApi = classes().that().resideInAPackage("dev.forkless.demo..")
                .should().onlyDependOnClassesThat()
                .resideInAnyPackage("dev.forkless.demo..", "dev.forkless.api..", "java..", "io.helidon..");
        onlyTheApi.check(demo);
        // the rule sees the demo's use of the API: without it allowed, it fails
        ArchRule notEvenTheApi = classes().that().resideInAPackage("dev.forkless.demo..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.forkless.demo..", "java..", "io.helidon..");
        assertThrows(AssertionError.class, () -> notEvenTheApi.check(demo));
    }
}
