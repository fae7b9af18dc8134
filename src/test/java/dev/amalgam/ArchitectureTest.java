package dev.amalgam;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * Keeps the package map of DESIGN.md true: the format, merge, provenance, scan, ledger, storage
 * and policy packages are plain Java (no Quarkus, Jakarta, Hibernate or HTTP), and dependencies
 * point down: api, cli -> registry -> (merge, provenance, ledger, policy, scan, storage) -> safetensors.
 */
class ArchitectureTest {
    private static final String[] PLAIN = {
            "dev.amalgam.safetensors..", "dev.amalgam.merge..", "dev.amalgam.provenance..",
            "dev.amalgam.scan..", "dev.amalgam.ledger..", "dev.amalgam.storage..", "dev.amalgam.policy..",
            "dev.amalgam.dam..", "dev.amalgam.model..", "dev.amalgam.eval..", "dev.amalgam.hub..", "dev.amalgam.bom.."};
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
                "dev.amalgam.policy..", "dev.amalgam.scan..", "dev.amalgam.storage..", "dev.amalgam.hub..", "dev.amalgam.bom.."};
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
                .should().dependOnClassesThat().resideInAnyPackage("dev.amalgam.api..", "dev.amalgam.cli..",
                        "dev.amalgam.console..")
                .check(classes);
    }

    @Test
    void consoleUsesRegistryServicesNeverApiResources() {
        noClasses().that().resideInAPackage("dev.amalgam.console..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.amalgam.api..", "dev.amalgam.cli..",
                        "dev.amalgam.merge..", "dev.amalgam.scan..", "dev.amalgam.safetensors..")
                .because("the console is a second face of the registry's services, beside the REST API (DESIGN.md)")
                .check(classes);
        noClasses().that().resideInAnyPackage("dev.amalgam.api..", "dev.amalgam.cli..")
                .should().dependOnClassesThat().resideInAPackage("dev.amalgam.console..")
                .check(classes);
        noClasses().that().resideOutsideOfPackages("dev.amalgam.console..")
                .should().dependOnClassesThat().resideInAPackage("org.eclipse.elk..")
                .because("only the console's lineage picture uses the layout kernel")
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

    /**
     * Inside merge, dependencies point down: the engine ({@code dev.amalgam.merge}: checking,
     * planning, running) -> tokenizer, method -> recipe; method -> kernel. The recipe and the
     * kernels know nothing above them, a method nothing of the plan or the vocabulary.
     */
    @Test
    void mergeSubpackagesPointDown() {
        String engine = "dev.amalgam.merge";
        String recipe = "dev.amalgam.merge.recipe..";
        String method = "dev.amalgam.merge.method..";
        String tokenizer = "dev.amalgam.merge.tokenizer..";
        String kernel = "dev.amalgam.merge.kernel..";
        noClasses().that().resideInAPackage(kernel)
                .should().dependOnClassesThat().resideInAnyPackage(engine, recipe, method, tokenizer)
                .because("the kernels are arithmetic over memory segments, used by methods and dam")
                .check(classes);
        noClasses().that().resideInAPackage(recipe)
                .should().dependOnClassesThat().resideInAnyPackage(engine, method, tokenizer, kernel)
                .because("a recipe is a parsed file; which methods exist is the method package's business")
                .check(classes);
        noClasses().that().resideInAPackage(method)
                .should().dependOnClassesThat().resideInAnyPackage(engine, tokenizer)
                .because("a method sees one tensor through TensorContext, never the plan or the vocabulary")
                .check(classes);
        noClasses().that().resideInAPackage(tokenizer)
                .should().dependOnClassesThat().resideInAnyPackage(engine, kernel)
                .because("the output vocabulary is built from the recipe and the models' files only")
                .check(classes);
    }

    @Test
    void mergeSubpackagesAreFreeOfCycles() {
        slices().matching("dev.amalgam.merge.(*)..").should().beFreeOfCycles().check(classes);
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
        noClasses().that().resideOutsideOfPackages("dev.amalgam.merge.kernel..", "dev.amalgam.model.kernel..")
                .should().dependOnClassesThat().resideInAPackage("jdk.incubator.vector..")
                .because("one scalar twin and one vector implementation per kernel, chosen once (STYLE.md)")
                .check(classes);
    }
}
