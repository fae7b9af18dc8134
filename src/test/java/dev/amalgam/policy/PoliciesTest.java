package dev.amalgam.policy;

import dev.amalgam.policy.ModelFacts.Check;
import dev.amalgam.policy.RuleResult.Result;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped policies/ folder as the registry loads it. */
class PoliciesTest {
    private static Policies policies;

    @BeforeAll
    static void load() {
        policies = Policies.load(LicenseCatalogueTest.POLICIES);
    }

    @Test
    void shippedPoliciesLoadWithDigestsOfTheirBytes() throws Exception {
        assertEquals(List.of("dev", "staging", "production"), policies.release().environmentNames());
        assertEquals(Digests.sha256(Files.readAllBytes(LicenseCatalogueTest.POLICIES.resolve("release.yaml"))),
                policies.release().digest());
        assertEquals(LicenseCatalogueTest.POLICIES.resolve("keys"), policies.keysDirectory().orElseThrow());
        assertTrue(Files.isRegularFile(policies.keysDirectory().orElseThrow().resolve("README.md")));
    }

    @Test
    void productionAllowsACleanApacheMitMerge() {
        ModelFacts m = with(List.of(
                new ModelFacts.Input("a@1", "sha256:" + "01".repeat(32), "Apache-2.0", ModelFacts.Signature.trusted("k")),
                new ModelFacts.Input("b@1", "sha256:" + "02".repeat(32), "MIT", ModelFacts.Signature.trusted("k"))), "merge@1");
        Decision d = policies.evaluate(m, "production", GateEvaluatorTest.NOW);
        assertTrue(d.allowed(), d.reasons().toString());
        assertEquals(policies.release().digest(), d.policyDigest());
    }

    @Test
    void productionDeniesPickleButDevAllowsGguf() {
        ModelFacts pickle = GateEvaluatorTest.with(GateEvaluatorTest.good(), b -> b.formats("safetensors", "pickle"));
        Decision prod = policies.evaluate(pickle, "production", GateEvaluatorTest.NOW);
        assertEquals(Result.FAIL, prod.rule("formats").orElseThrow().result());
        ModelFacts gguf = GateEvaluatorTest.with(GateEvaluatorTest.good(), b -> b.formats("gguf"));
        assertTrue(policies.evaluate(gguf, "dev", GateEvaluatorTest.NOW).allowed());
    }

    @Test
    void productionDeniesNonCommercialInputNamingTheLicenseRule() {
        ModelFacts m = with(List.of(
                new ModelFacts.Input("a@1", "sha256:" + "01".repeat(32), "Apache-2.0", ModelFacts.Signature.trusted("k")),
                new ModelFacts.Input("nc@1", "sha256:" + "02".repeat(32), "CC-BY-NC-4.0", ModelFacts.Signature.trusted("k"))),
                "merge@1");
        Decision d = policies.evaluate(m, "production", GateEvaluatorTest.NOW);
        assertFalse(d.allowed());
        assertTrue(d.reasons().getFirst().startsWith("license: input nc@1 (CC-BY-NC-4.0) does not allow commercial use"),
                d.reasons().toString());
        assertTrue(policies.evaluate(m, "dev", GateEvaluatorTest.NOW).allowed(), "dev is non-commercial");
    }

    @Test
    void reproducibilityOnlyWarnsInStaging() {
        ModelFacts m = GateEvaluatorTest.with(GateEvaluatorTest.good(), b -> b.reproducible(Check.NOT_CHECKED));
        Decision staging = policies.evaluate(m, "staging", GateEvaluatorTest.NOW);
        assertTrue(staging.allowed(), staging.reasons().toString());
        assertEquals(Result.WARN, staging.rule("reproducible").orElseThrow().result());
        assertFalse(policies.evaluate(m, "production", GateEvaluatorTest.NOW).allowed());
    }

    @Test
    void combineForAnEnvironmentUsesItsLicenseNeeds() {
        List<LicenseInput> inputs = List.of(LicenseInput.of("a", "MIT"), LicenseInput.of("b", "CC-BY-NC-4.0"));
        assertTrue(policies.combine(inputs, "dev").allowed());
        assertFalse(policies.combine(inputs, "production").allowed());
        assertThrows(IllegalArgumentException.class, () -> policies.combine(inputs, "moon"));
    }

    private static ModelFacts with(List<ModelFacts.Input> inputs, String name) {
        return GateEvaluatorTest.with(GateEvaluatorTest.good(), b -> b.inputs(inputs).name(name));
    }
}
