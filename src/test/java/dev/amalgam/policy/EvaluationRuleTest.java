package dev.amalgam.policy;

import dev.amalgam.policy.RuleResult.Result;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The {@code evaluated} rule type: bounds on the newest signed evaluation on a dataset; a missing one denies. */
class EvaluationRuleTest {
    private static final String POLICY = """
            version: 1
            environments:
              prod:
                rules:
                  - {id: quality, type: evaluated, dataset: heldout, max-perplexity: 20, max-kl: 0.5, kl-reference: base, finite-logits: true}
              lab:
                rules:
                  - {id: finite, type: evaluated, dataset: smoke, finite-logits: true, mode: warn}
            """;
    private static LicenseCatalogue catalogue;
    private static GateEvaluator gate;

    @BeforeAll
    static void load() {
        catalogue = LicenseCatalogue.load(LicenseCatalogueTest.POLICIES.resolve("licenses.yaml"));
        gate = new GateEvaluator(ReleasePolicy.parse("release.yaml", POLICY.getBytes(StandardCharsets.UTF_8), catalogue), catalogue);
    }

    private static ModelFacts model(ModelFacts.Evaluation... evaluations) {
        return ModelFacts.builder("merge@1", GateEvaluatorTest.DIGEST).evaluations(List.of(evaluations)).build();
    }

    private static ModelFacts.Evaluation eval(String dataset, double ppl, double nonFinite, Map<String, Double> kl) {
        return new ModelFacts.Evaluation(dataset, "sha256:" + "cd".repeat(32), ppl, nonFinite, kl);
    }

    private static RuleResult quality(ModelFacts m) {
        return gate.evaluate(m, "prod", GateEvaluatorTest.NOW).rule("quality").orElseThrow();
    }

    @Test
    void anEvaluationWithinEveryBoundPasses() {
        Decision d = gate.evaluate(model(eval("heldout", 12.5, 0, Map.of("base@1", 0.2))), "prod", GateEvaluatorTest.NOW);
        assertTrue(d.allowed(), d.reasons().toString());
        assertEquals("the signed evaluation on 'heldout' meets the bounds", d.rule("quality").orElseThrow().message());
    }

    @Test
    void aMissingEvaluationIsAClearDenyReason() {
        Decision d = gate.evaluate(model(eval("other", 1, 0, Map.of())), "prod", GateEvaluatorTest.NOW);
        assertFalse(d.allowed());
        assertEquals("quality: no signed evaluation on dataset 'heldout' (run POST /api/v1/models/{ref}/evaluations with dataset 'heldout')",
                d.reasons().getFirst());
    }

    @Test
    void eachBoundFailsWithItsNumbers() {
        assertEquals("perplexity on 'heldout' is 25.0000, above 20.0", quality(model(eval("heldout", 25, 0, Map.of("base@1", 0.1)))).message());
        assertEquals("KL to base on 'heldout' is 0.700000, above 0.5", quality(model(eval("heldout", 10, 0, Map.of("base@1", 0.7)))).message());
        assertEquals("the evaluation on 'heldout' has no KL to base (evaluate with it as a reference)",
                quality(model(eval("heldout", 10, 0, Map.of("a@1", 0.1)))).message());
        RuleResult nan = quality(model(eval("heldout", Double.NaN, 0.01, Map.of("base@1", Double.NaN))));
        assertEquals(Result.FAIL, nan.result());
        assertTrue(nan.message().startsWith("0.0100000 of the logits on 'heldout' are NaN or infinite; perplexity on 'heldout' is NaN"), nan.message());
        assertTrue(nan.message().endsWith("KL to base on 'heldout' is NaN, above 0.5"), nan.message());
    }

    @Test
    void theNewestEvaluationOnTheDatasetDecides() {
        // evidence comes newest first: a later, worse evaluation is not hidden by an older good one
        assertEquals(Result.FAIL, quality(model(eval("heldout", 30, 0, Map.of("base@1", 0.1)), eval("heldout", 5, 0, Map.of("base@1", 0.1)))).result());
    }

    @Test
    void aWarnRuleReportsButDoesNotDeny() {
        Decision d = gate.evaluate(model(eval("smoke", 3, 0.5, Map.of())), "lab", GateEvaluatorTest.NOW);
        assertTrue(d.allowed());
        assertEquals(Result.WARN, d.rule("finite").orElseThrow().result());
    }

    @Test
    void badRulesAreRefusedWhenThePolicyLoads() {
        for (String[] c : new String[][]{
                {"{id: q, type: evaluated, max-perplexity: 3}", "missing required key 'dataset'"},
                {"{id: q, type: evaluated, dataset: d}", "needs at least one of max-perplexity, max-kl, finite-logits"},
                {"{id: q, type: evaluated, dataset: d, max-kl: 1}", "max-kl and kl-reference go together"},
                {"{id: q, type: evaluated, dataset: d, max-perplexity: -1}", "must be a positive finite number"},
                {"{id: q, type: evaluated, dataset: d, max-perplexity: low}", "expected a number"},
                {"{id: q, type: evaluated, dataset: d, finite-logits: true, top1: 3}", "top1"}}) {
            String yaml = "version: 1\nenvironments:\n  e:\n    rules:\n      - " + c[0] + "\n";
            var e = assertThrows(PolicyFileException.class,
                    () -> ReleasePolicy.parse("release.yaml", yaml.getBytes(StandardCharsets.UTF_8), catalogue));
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }
}
