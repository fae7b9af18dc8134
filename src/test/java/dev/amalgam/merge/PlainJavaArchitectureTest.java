package dev.amalgam.merge;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** The merge core and the format stay plain Java; only merge.kernel touches the Vector API. */
class PlainJavaArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.amalgam.safetensors", "dev.amalgam.merge");

    @Test
    void noFrameworkInTheCore() {
        noClasses().that().resideInAnyPackage("dev.amalgam.safetensors..", "dev.amalgam.merge..")
                .should().dependOnClassesThat().resideInAnyPackage("io.quarkus..", "jakarta..", "io.vertx..",
                        "org.hibernate..", "dev.amalgam.cli..", "dev.amalgam.api..", "dev.amalgam.registry..")
                .check(CLASSES);
    }

    @Test
    void onlyTheKernelPackageUsesTheVectorApi() {
        noClasses().that().resideOutsideOfPackage("dev.amalgam.merge.kernel")
                .should().dependOnClassesThat().resideInAPackage("jdk.incubator.vector..")
                .check(CLASSES);
    }
}
