package dev.amalgam;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * Keeps the package map of DESIGN.md true: the format, merge, provenance, scan, ledger, storage
 * and policy packages are plain Java (no Quarkus, Jakarta, Hibernate or HTTP), and dependencies
 * point down: api, cli -> registry -> (merge, provenance, ledger, policy, scan, storage) -> safetensors.
 */
class ArchitectureTest {
    private static final String[] PLAIN = {
            "dev.amalgam.safetensors..", "dev.amalgam.merge..", "dev.amalgam.provenance..",
            "dev.amalgam.scan..", "dev.amalgam.ledger..", "dev.amalgam.storage..", "dev.amalgam.policy..",
            "dev.amalgam.dam.."};
    private static final String[] FRAMEWORKS = {
            "io.quarkus..", "jakarta..", "javax.ws..", "javax.persistence..", "org.hibernate..",
            "io.vertx..", "org.jboss.resteasy..", "java.net.http.."};

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.amalgam");
    }

    @Test
    void corePackagesArePlainJava() {
        noClasses().that().resideInAnyPackage(PLAIN)
                .should().dependOnClassesThat().resideInAnyPackage(FRAMEWORKS)
                .because("the merge core, format, provenance, scan and ledger run offline without a server")
                .allowEmptyShould(true)
                .check(classes);
    }

    @Test
    void corePackagesDoNotReachUpIntoTheServer() {
        noClasses().that().resideInAnyPackage(PLAIN)
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.amalgam.registry..", "dev.amalgam.api..", "dev.amalgam.cli..")
                .allowEmptyShould(true)
                .check(classes);
    }

    @Test
    void safetensorsIsTheBottomLayer() {
        noClasses().that().resideInAPackage("dev.amalgam.safetensors..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "dev.amalgam.merge..", "dev.amalgam.provenance..", "dev.amalgam.scan..",
                        "dev.amalgam.ledger..", "dev.amalgam.storage..", "dev.amalgam.policy..")
                .allowEmptyShould(true)
                .check(classes);
    }

    @Test
    void middleLayerPackagesDoNotDependOnEachOther() {
        String[] middle = {"dev.amalgam.merge..", "dev.amalgam.provenance..", "dev.amalgam.ledger..",
                "dev.amalgam.policy..", "dev.amalgam.scan..", "dev.amalgam.storage.."};
        for (String from : middle) {
            String[] others = java.util.Arrays.stream(middle).filter(m -> !m.equals(from)).toArray(String[]::new);
            noClasses().that().resideInAPackage(from)
                    .should().dependOnClassesThat().resideInAnyPackage(others)
                    .because("each is used by the registry on its own (DESIGN.md)")
                    .allowEmptyShould(true)
                    .check(classes);
        }
    }

    @Test
    void registryDoesNotDependOnItsCallers() {
        noClasses().that().resideInAPackage("dev.amalgam.registry..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.amalgam.api..", "dev.amalgam.cli..")
                .check(classes);
    }

    @Test
    void cliTalksToTheServerOnlyOverHttp() {
        noClasses().that().resideInAPackage("dev.amalgam.cli..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.amalgam.api..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.amalgam.api..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.amalgam.cli..")
                .check(classes);
    }

    @Test
    void resourcesTranslateHttpToRegistryCalls() {
        classes().that().resideInAPackage("dev.amalgam.api..")
                .should().onlyDependOnClassesThat().resideInAnyPackage(
                        "dev.amalgam.api..", "dev.amalgam.registry..", "dev.amalgam",
                        "java..", "jakarta..", "io.quarkus..", "io.vertx..", "io.smallrye..", "org.jboss..",
                        "org.eclipse.microprofile..", "com.fasterxml.jackson..")
                .because("the API layer maps HTTP to one registry service call; ledgers, blobs, merges and policies "
                        + "are reached through the registry (docs/architecture.md)")
                .check(classes);
    }

    @Test
    void onlyKernelsTouchTheVectorApi() {
        noClasses().that().resideOutsideOfPackages("dev.amalgam.merge.kernel..")
                .should().dependOnClassesThat().resideInAPackage("jdk.incubator.vector..")
                .because("one scalar twin and one vector implementation per kernel, chosen once (STYLE.md)")
                .check(classes);
    }
}
