package dev.amalgam.policy;

import dev.amalgam.policy.LicenseProblem.Kind;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LicenseCombinerTest {
    private static final LicenseTarget COMMERCIAL = new LicenseTarget(true, null, 0);
    private static LicenseCombiner combiner;

    @BeforeAll
    static void load() {
        combiner = new LicenseCombiner(LicenseCatalogue.load(LicenseCatalogueTest.POLICIES.resolve("licenses.yaml")));
    }

    private static LicenseCombination combine(LicenseTarget target, String... nameThenExpression) {
        List<LicenseInput> inputs = new java.util.ArrayList<>();
        for (int i = 0; i < nameThenExpression.length; i += 2) {
            inputs.add(LicenseInput.of(nameThenExpression[i], nameThenExpression[i + 1]));
        }
        return combiner.combine(inputs, target);
    }

    private static LicenseProblem only(LicenseCombination c) {
        assertFalse(c.allowed());
        assertEquals(1, c.problems().size(), c.problems().toString());
        return c.problems().getFirst();
    }

    @Test
    void apacheAndMitCombineForACommercialTarget() {
        LicenseCombination c = combine(COMMERCIAL, "a@1", "Apache-2.0", "b@1", "mit");
        assertTrue(c.allowed(), c.reasons().toString());
        assertEquals("Apache-2.0 AND MIT", c.expressionText());
        assertEquals(List.of("Apache-2.0", "MIT"), c.obligations().licenses());
        assertTrue(c.obligations().namePrefix().isEmpty());
        assertTrue(c.choices().isEmpty());
    }

    @Test
    void sameLicenseTwiceAppearsOnce() {
        LicenseCombination c = combine(COMMERCIAL, "a@1", "MIT", "b@1", "MIT");
        assertEquals("MIT", c.expressionText());
    }

    @Test
    void nonCommercialInputIsDeniedForACommercialTargetOnly() {
        LicenseProblem p = only(combine(COMMERCIAL, "a@1", "Apache-2.0", "nc@1", "CC-BY-NC-4.0"));
        assertEquals(Kind.NON_COMMERCIAL, p.kind());
        assertEquals("nc@1 (CC-BY-NC-4.0)", p.first());
        assertTrue(p.message().contains("does not allow commercial use"), p.message());
        assertTrue(combine(LicenseTarget.ANY, "a@1", "Apache-2.0", "nc@1", "CC-BY-NC-4.0").allowed());
    }

    @Test
    void noDerivativesInputIsAlwaysDenied() {
        LicenseProblem p = only(combine(LicenseTarget.ANY, "a@1", "MIT", "nd@1", "CC-BY-ND-4.0"));
        assertEquals(Kind.NO_DERIVATIVES, p.kind());
        assertEquals("nd@1 (CC-BY-ND-4.0)", p.first());
    }

    @Test
    void llama31InputRequiresTheLlamaNamePrefixAndAttribution() {
        LicenseCombination c = combine(COMMERCIAL, "llama@1", "LicenseRef-Llama-3.1", "mistral@1", "Apache-2.0");
        assertTrue(c.allowed(), c.reasons().toString());
        Obligations o = c.obligations();
        assertEquals("Llama", o.namePrefix().orElseThrow());
        assertEquals(List.of("Built with Llama"), o.attributions());
        assertTrue(o.notices().getFirst().startsWith("Llama 3.1 is licensed under the Llama 3.1 Community License"));
        assertEquals(OptionalLong.of(700_000_000L), o.userCap());
        assertEquals(1, o.flowDown().size());
    }

    @Test
    void compatiblePrefixesKeepTheLongerOne() {
        LicenseCombination c = combine(COMMERCIAL, "l3@1", "LicenseRef-Llama-3", "l31@1", "LicenseRef-Llama-3.1");
        assertTrue(c.allowed(), c.reasons().toString());
        assertEquals("Llama 3", c.obligations().namePrefix().orElseThrow());
        assertEquals(List.of("Built with Meta Llama 3", "Built with Llama"), c.obligations().attributions());
    }

    @Test
    void unknownAndUncataloguedLicensesAreDenied() {
        LicenseProblem unknown = only(combine(LicenseTarget.ANY, "a@1", "MIT", "u@1", "LicenseRef-unknown"));
        assertEquals(Kind.UNKNOWN_LICENSE, unknown.kind());
        assertEquals("u@1 (LicenseRef-unknown)", unknown.first());
        LicenseProblem missing = only(combine(LicenseTarget.ANY, "x@1", "LicenseRef-Custom-EULA"));
        assertEquals(Kind.UNKNOWN_LICENSE, missing.kind());
        assertTrue(missing.message().contains("not in the license catalogue"), missing.message());
    }

    @Test
    void llama2CannotBeMergedWithAModelUnderAnotherLicense() {
        LicenseProblem p = only(combine(LicenseTarget.ANY, "llama-2-7b@1", "LicenseRef-Llama-2",
                "mistral-7b@1", "Apache-2.0"));
        assertEquals(Kind.IMPROVE_OTHER_MODELS, p.kind());
        assertEquals("llama-2-7b@1 (LicenseRef-Llama-2)", p.first());
        assertEquals("mistral-7b@1 (Apache-2.0)", p.second());
        assertTrue(combine(LicenseTarget.ANY, "a@1", "LicenseRef-Llama-2", "b@1", "llama2").allowed(),
                "two Llama 2 models may be merged");
    }

    @Test
    void llama2AndMistralResearchConflictNamesThePair() {
        LicenseCombination c = combine(LicenseTarget.ANY, "llama-2-13b@1", "LicenseRef-Llama-2",
                "mistral-large@1", "LicenseRef-MRL");
        assertFalse(c.allowed());
        assertTrue(c.problems().stream().anyMatch(p -> p.kind() == Kind.IMPROVE_OTHER_MODELS
                && p.first().equals("llama-2-13b@1 (LicenseRef-Llama-2)")
                && p.second().equals("mistral-large@1 (LicenseRef-MRL)")), c.problems().toString());
        assertTrue(c.problems().stream().anyMatch(p -> p.kind() == Kind.OWN_LICENSE_ONLY), c.problems().toString());
    }

    @Test
    void twoOwnLicenseOnlyLicensesConflict() {
        LicenseProblem p = only(combine(LicenseTarget.ANY, "m@1", "LicenseRef-MRL", "q@1", "LicenseRef-Qwen-Research"));
        assertEquals(Kind.OWN_LICENSE_ONLY, p.kind());
        assertTrue(p.isPair());
    }

    @Test
    void shareAlikeConflictsWithFurtherTermsButAbsorbsPermissiveOnes() {
        assertTrue(combine(COMMERCIAL, "sa@1", "CC-BY-SA-4.0", "mit@1", "MIT").allowed());
        LicenseProblem p = only(combine(COMMERCIAL, "sa@1", "CC-BY-SA-4.0", "gemma@1", "LicenseRef-Gemma"));
        assertEquals(Kind.SHARE_ALIKE, p.kind());
        assertEquals("sa@1 (CC-BY-SA-4.0)", p.first());
        assertEquals("gemma@1 (LicenseRef-Gemma)", p.second());
    }

    @Test
    void nonCommercialShareAlikeAbsorbsNonCommercialButNotTheOtherWayRound() {
        assertTrue(combine(LicenseTarget.ANY, "sa@1", "CC-BY-NC-SA-4.0", "nc@1", "CC-BY-NC-4.0").allowed());
        LicenseProblem p = only(combine(LicenseTarget.ANY, "sa@1", "CC-BY-SA-4.0", "nc@1", "CC-BY-NC-4.0"));
        assertEquals(Kind.SHARE_ALIKE, p.kind());
        assertEquals("sa@1 (CC-BY-SA-4.0)", p.first());
        LicenseProblem twoSa = only(combine(LicenseTarget.ANY, "a@1", "CC-BY-SA-4.0", "b@1", "CC-BY-NC-SA-4.0"));
        assertEquals(Kind.SHARE_ALIKE, twoSa.kind());
    }

    @Test
    void incompatibleNamePrefixesConflict() {
        LicenseCatalogue custom = LicenseCatalogue.parse("licenses.yaml",
                ("version: 1\nlicenses:\n" + entry("LicenseRef-A", "Alpha") + entry("LicenseRef-B", "Beta")).getBytes());
        LicenseCombination c = new LicenseCombiner(custom).combine(
                List.of(LicenseInput.of("a", "LicenseRef-A"), LicenseInput.of("b", "LicenseRef-B")), LicenseTarget.ANY);
        LicenseProblem p = only(c);
        assertEquals(Kind.NAME_PREFIX, p.kind());
        assertTrue(p.message().contains("'Alpha'") && p.message().contains("'Beta'"), p.message());
    }

    static String entry(String id, String prefix) {
        return """
                  - id: %s
                    name: test license %s
                    text: https://example.com/%s
                    facts:
                      commercial_use: {value: true, source: s}
                      non_commercial: {value: false, source: s}
                      no_derivatives: {value: false, source: s}
                      share_alike: {value: false, source: s}
                      own_license_only: {value: false, source: s}
                      name_prefix: {value: %s, source: s}
                """.formatted(id, id, id, prefix);
    }

    @Test
    void orBranchIsChosenToSatisfyTheEnvironmentAndRecorded() {
        LicenseCombination c = combine(COMMERCIAL, "base@1", "MIT", "dual@1", "CC-BY-NC-4.0 OR Apache-2.0");
        assertTrue(c.allowed(), c.reasons().toString());
        assertEquals("MIT AND Apache-2.0", c.expressionText());
        OrChoice choice = c.choices().getFirst();
        assertEquals("dual@1", choice.input());
        assertEquals("CC-BY-NC-4.0 OR Apache-2.0", choice.expression());
        assertEquals("Apache-2.0", choice.chosen());
        assertTrue(choice.reason().contains("earlier alternatives"), choice.reason());
        LicenseCombination nonCommercial = combine(LicenseTarget.ANY, "base@1", "MIT", "dual@1", "CC-BY-NC-4.0 OR Apache-2.0");
        assertEquals("CC-BY-NC-4.0", nonCommercial.choices().getFirst().chosen(), "first branch when it works");
    }

    @Test
    void orBranchesAvoidPairConflicts() {
        LicenseCombination c = combine(LicenseTarget.ANY, "l2@1", "LicenseRef-Llama-2",
                "dual@1", "Apache-2.0 OR LicenseRef-Llama-2");
        assertTrue(c.allowed(), c.reasons().toString());
        assertEquals("LicenseRef-Llama-2", c.expressionText());
    }

    @Test
    void whenNoBranchWorksTheFewestProblemsAreReported() {
        LicenseCombination c = combine(COMMERCIAL, "x@1", "CC-BY-NC-4.0 OR CC-BY-NC-ND-4.0");
        assertFalse(c.allowed());
        assertEquals("CC-BY-NC-4.0", c.choices().getFirst().chosen());
        assertTrue(c.choices().getFirst().reason().startsWith("no alternative satisfies"));
    }

    @Test
    void regionAndUserCapComeFromTheTarget() {
        LicenseProblem region = only(combine(new LicenseTarget(true, "eu", 0), "scout@1", "LicenseRef-Llama-4"));
        assertEquals(Kind.REGION, region.kind());
        assertTrue(combine(new LicenseTarget(true, "US", 0), "scout@1", "LicenseRef-Llama-4").allowed());
        LicenseProblem cap = only(combine(new LicenseTarget(true, null, 200_000_000), "qwen@1", "LicenseRef-Qwen"));
        assertEquals(Kind.USER_CAP, cap.kind());
        assertTrue(cap.message().contains("100000000"), cap.message());
    }

    @Test
    void deniedLicensesAreRefused() {
        LicenseProblem p = only(combine(new LicenseTarget(false, null, 0, Set.of("mit")), "a@1", "MIT"));
        assertEquals(Kind.NOT_ALLOWED, p.kind());
    }

    @Test
    void withExceptionUsesTheBaseLicenseFacts() {
        LicenseCombination c = combine(COMMERCIAL, "a@1", "Apache-2.0 WITH LLVM-exception");
        assertTrue(c.allowed());
        assertEquals("Apache-2.0 WITH LLVM-exception", c.expressionText());
    }

    @Test
    void noInputsIsNotAllowed() {
        LicenseCombination c = combiner.combine(List.of(), LicenseTarget.ANY);
        assertFalse(c.allowed());
        assertEquals("NONE", c.expressionText());
    }

    @Test
    void explosiveOrExpressionsAreRefusedNotExpanded() {
        String big = String.join(" AND ", java.util.Collections.nCopies(13, "(MIT OR Apache-2.0)"));
        LicenseCombination c = combine(LicenseTarget.ANY, "x@1", big);
        assertFalse(c.allowed());
        assertTrue(c.problems().getFirst().message().contains("OR combinations"), c.problems().toString());
    }
}
