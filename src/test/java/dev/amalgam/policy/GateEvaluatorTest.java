package dev.amalgam.policy;

import dev.amalgam.policy.ModelFacts.Check;
import dev.amalgam.policy.ModelFacts.Input;
import dev.amalgam.policy.ModelFacts.Review;
import dev.amalgam.policy.ModelFacts.ReviewState;
import dev.amalgam.policy.ModelFacts.ScanVerdict;
import dev.amalgam.policy.ModelFacts.Signature;
import dev.amalgam.policy.ModelFacts.SignatureState;
import dev.amalgam.policy.RuleResult.Result;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GateEvaluatorTest {
    static final String DIGEST = "sha256:" + "ab".repeat(32);
    static final Clock NOW = Clock.fixed(Instant.parse("2026-06-01T12:00:00Z"), ZoneOffset.UTC);

    private static final String POLICY = """
            version: 1
            environments:
              prod:
                rules:
                  - {id: formats, type: formats-allowed, formats: [safetensors]}
                  - {id: scan, type: scan-clean}
                  - {id: finite, type: finite-weights}
                  - {id: signatures, type: signed}
                  - {id: review, type: review-approved}
                  - {id: license, type: license-allowed, commercial: true, region: EU, users: 1000}
                  - {id: name, type: name-obligations}
                  - {id: reproducible, type: reproducible}
              lab:
                rules:
                  - {id: formats, type: formats-allowed, formats: [safetensors, gguf], mode: warn}
                  - {id: scan, type: scan-clean}
                  - {id: output-signed, type: signed, inputs: false, output: true, mode: warn}
            exceptions:
              - rule: reproducible
                environment: prod
                model: sha256:%s
                expires: 2026-07-01
                approver: alice
                reason: re-run scheduled
              - rule: finite
                model: %s
                expires: 2026-05-01T00:00:00Z
                approver: bob
                reason: old exception
            """.formatted("ab".repeat(32), "Llama-merge");

    private static LicenseCatalogue catalogue;
    private static GateEvaluator gate;

    @BeforeAll
    static void load() {
        catalogue = LicenseCatalogue.load(LicenseCatalogueTest.POLICIES.resolve("licenses.yaml"));
        gate = new GateEvaluator(ReleasePolicy.parse("release.yaml", POLICY.getBytes(StandardCharsets.UTF_8), catalogue), catalogue);
    }

    /** A merge that passes every rule of {@code prod}. */
    static ModelFacts good() {
        return ModelFacts.builder("Llama-merge@1", DIGEST).formats("safetensors").scan(ScanVerdict.CLEAN)
                .finiteWeights(Check.PASSED).signature(Signature.trusted("registry"))
                .inputs(List.of(
                        new Input("llama-3.1-8b@1", "sha256:" + "01".repeat(32), "LicenseRef-Llama-3.1", Signature.trusted("meta")),
                        new Input("mistral-7b@1", "sha256:" + "02".repeat(32), "Apache-2.0", Signature.trusted("mistral"))))
                .review(new Review(ReviewState.APPROVED, "sam", "rita")).reproducible(Check.PASSED).build();
    }

    @Test
    void builderDefaultsFailClosed() {
        ModelFacts bare = ModelFacts.builder("x", DIGEST).formats("safetensors").license("MIT").build();
        Decision d = prod(bare);
        assertFalse(d.allowed());
        assertEquals(List.of("scan", "finite", "signatures", "review"), d.rules().stream()
                .filter(r -> r.result() != Result.PASS).map(RuleResult::id).toList(),
                "a source model has nothing to re-run; everything else fails closed");
    }

    static ModelFacts with(ModelFacts m, java.util.function.UnaryOperator<ModelFacts.Builder> change) {
        return change.apply(m.toBuilder()).build();
    }

    private static Decision prod(ModelFacts m) {
        return gate.evaluate(m, "prod", NOW);
    }

    private static RuleResult rule(Decision d, String id) {
        return d.rule(id).orElseThrow();
    }

    /** Asserts {@code id} is the only failing rule and the decision denies. */
    private static RuleResult failsOnly(Decision d, String id) {
        assertFalse(d.allowed());
        List<String> failing = d.rules().stream().filter(r -> r.result() == Result.FAIL).map(RuleResult::id).toList();
        assertEquals(List.of(id), failing);
        assertTrue(d.reasons().getFirst().startsWith(id + ": "), d.reasons().toString());
        return rule(d, id);
    }

    @Test
    void aCleanMergeIsAllowedWithEveryRuleReported() {
        Decision d = prod(good());
        assertTrue(d.allowed(), d.reasons().toString());
        assertEquals(8, d.rules().size());
        assertTrue(d.rules().stream().allMatch(r -> r.result() == Result.PASS));
        assertEquals("LicenseRef-Llama-3.1 AND Apache-2.0", d.license().orElseThrow().expressionText());
        assertEquals(Digests.sha256(POLICY.getBytes(StandardCharsets.UTF_8)), d.policyDigest());
        assertEquals(catalogue.digest(), d.catalogueDigest());
        assertEquals(NOW.instant(), d.evaluatedAt());
        assertEquals("prod", d.environment());
        assertEquals(DIGEST, d.modelDigest());
    }

    @Test
    void formatsOutsideTheListFail() {
        RuleResult r = failsOnly(prod(with(good(), b -> b.formats("safetensors", "pickle"))), "formats");
        assertTrue(r.message().contains("[pickle]"), r.message());
        failsOnly(prod(with(good(), b -> b.formats())), "formats");
    }

    @Test
    void scanMustBeClean() {
        for (ScanVerdict v : List.of(ScanVerdict.FINDINGS, ScanVerdict.NOT_SCANNED, ScanVerdict.ERROR)) {
            failsOnly(prod(with(good(), b -> b.scan(v))), "scan");
        }
    }

    @Test
    void weightsMustBeCheckedFinite() {
        assertTrue(failsOnly(prod(with(good(), b -> b.finiteWeights(Check.FAILED))), "finite").message().contains("NaN"));
        failsOnly(prod(with(good(), b -> b.finiteWeights(Check.NOT_CHECKED))), "finite");
    }

    @Test
    void outputAndInputsMustBeSignedByTrustedKeys() {
        RuleResult out = failsOnly(prod(with(good(), b -> b.signature(Signature.MISSING))), "signatures");
        assertTrue(out.message().contains("model Llama-merge@1 is not signed"), out.message());
        List<Input> inputs = List.of(good().inputs().get(0), new Input("mistral-7b@1", "sha256:" + "02".repeat(32),
                "Apache-2.0", new Signature(SignatureState.UNTRUSTED, "stranger.pem")));
        RuleResult in = failsOnly(prod(with(good(), b -> b.inputs(inputs))), "signatures");
        assertTrue(in.message().contains("input mistral-7b@1 is signed by key stranger.pem, which is not in policies/keys/"), in.message());
        RuleResult invalid = failsOnly(prod(with(good(), b -> b.signature(new Signature(SignatureState.INVALID, "k")))), "signatures");
        assertTrue(invalid.message().contains("does not verify"));
    }

    @Test
    void reviewMustBeApprovedByAnotherPerson() {
        failsOnly(prod(with(good(), b -> b.review(new Review(ReviewState.PENDING, "sam", null)))), "review");
        Decision rejected = prod(with(good(), b -> b.review(new Review(ReviewState.REJECTED, "sam", "rita"))));
        assertEquals(List.of("review", ReleasePolicy.REJECTION_RULE), rejected.rules().stream()
                .filter(r -> r.result() == Result.FAIL).map(RuleResult::id).toList());
        RuleResult self = failsOnly(prod(with(good(), b -> b.review(new Review(ReviewState.APPROVED, "sam", "sam")))), "review");
        assertTrue(self.message().contains("four eyes"), self.message());
    }

    @Test
    void nonCommercialInputIsDeniedByTheLicenseRule() {
        List<Input> inputs = List.of(good().inputs().get(0),
                new Input("nc@1", "sha256:" + "03".repeat(32), "CC-BY-NC-4.0", Signature.trusted("x")));
        RuleResult r = failsOnly(prod(with(good(), b -> b.inputs(inputs))), "license");
        assertTrue(r.message().contains("nc@1 (CC-BY-NC-4.0)") && r.message().contains("commercial"), r.message());
    }

    @Test
    void licenseRuleChecksRegionAndUserCount() {
        List<Input> scout = List.of(new Input("llama-4-scout@1", "sha256:" + "04".repeat(32), "LicenseRef-Llama-4",
                Signature.trusted("meta")));
        RuleResult r = failsOnly(prod(with(good(), b -> b.inputs(scout))), "license");
        assertTrue(r.message().contains("region EU"), r.message());
    }

    @Test
    void unparsableOrMissingInputLicenseFailsTheLicenseRule() {
        List<Input> bad = List.of(new Input("x@1", "sha256:" + "05".repeat(32), "MIT AND (", Signature.trusted("k")));
        Decision d = prod(with(good(), b -> b.name("x").inputs(bad)));
        assertTrue(rule(d, "license").message().contains("does not parse"), rule(d, "license").message());
        List<Input> none = List.of(new Input("y@1", "sha256:" + "06".repeat(32), null, Signature.trusted("k")));
        assertEquals(Result.FAIL, rule(prod(with(good(), b -> b.name("x").inputs(none))), "license").result());
    }

    @Test
    void nameMustCarryTheRequiredPrefix() {
        RuleResult r = failsOnly(prod(with(good(), b -> b.name("my-merge@1"))), "name");
        assertTrue(r.message().contains("must begin with 'Llama'"), r.message());
        failsOnly(prod(with(good(), b -> b.name("llama-merge@1"))), "name");
    }

    @Test
    void nameObligationsBindDerivativesNotTheSourceModel() {
        ModelFacts source = with(good(), b -> b.name("Meta-Llama-3-8B").inputs(List.of()).license("llama3"));
        Decision d = prod(source);
        assertEquals(Result.PASS, rule(d, "name").result());
        assertTrue(d.allowed(), d.reasons().toString());
    }

    @Test
    void sourceModelIsJudgedByItsOwnLicense() {
        ModelFacts source = with(good(), b -> b.name("Qwen2.5-7B").inputs(List.of()).license("other"));
        RuleResult r = failsOnly(prod(source), "license");
        assertTrue(r.message().contains("unknown"), r.message());
        assertTrue(prod(with(source, b -> b.license("Apache-2.0"))).allowed());
    }

    @Test
    void failedReproductionIsDeniedWithoutAValidException() {
        ModelFacts m = with(good(), b -> b.reproducible(Check.FAILED));
        Decision late = gate.evaluate(m, "prod", Clock.fixed(Instant.parse("2026-07-01T00:00:00Z"), ZoneOffset.UTC));
        RuleResult expired = failsOnly(late, "reproducible");
        assertTrue(expired.message().contains("exception by alice expired at 2026-07-01T00:00:00Z"), expired.message());
    }

    @Test
    void validExceptionTurnsAFailureIntoExcepted() {
        Decision d = prod(with(good(), b -> b.reproducible(Check.NOT_CHECKED)));
        assertTrue(d.allowed(), d.reasons().toString());
        RuleResult r = rule(d, "reproducible");
        assertEquals(Result.EXCEPTED, r.result());
        assertEquals("alice", r.exception().orElseThrow().approver());
        assertTrue(r.message().contains("excepted until 2026-07-01T00:00:00Z"), r.message());
    }

    @Test
    void exceptionMatchesByNameAndExpiredOnesDoNotApply() {
        // the 'finite' exception names the model by name but expired on 2026-05-01
        RuleResult r = failsOnly(prod(with(good(), b -> b.finiteWeights(Check.FAILED))), "finite");
        assertTrue(r.message().contains("exception by bob expired"), r.message());
        Decision earlier = gate.evaluate(with(good(), b -> b.finiteWeights(Check.FAILED)), "prod",
                Clock.fixed(Instant.parse("2026-04-30T23:59:59Z"), ZoneOffset.UTC));
        assertEquals(Result.EXCEPTED, rule(earlier, "finite").result());
        assertTrue(earlier.allowed());
    }

    @Test
    void warnModeReportsButDoesNotDeny() {
        ModelFacts m = with(good(), b -> b.formats("safetensors", "pickle").signature(Signature.MISSING));
        Decision d = gate.evaluate(m, "lab", NOW);
        assertTrue(d.allowed(), d.reasons().toString());
        assertEquals(Result.WARN, rule(d, "formats").result());
        assertEquals(Result.WARN, rule(d, "output-signed").result());
        assertTrue(d.reasons().getFirst().contains("2 warnings"), d.reasons().toString());
    }

    @Test
    void denyOverridesEveryPass() {
        Decision d = gate.evaluate(with(good(), b -> b.scan(ScanVerdict.FINDINGS).formats("pickle")), "lab", NOW);
        assertFalse(d.allowed());
        assertEquals(Result.WARN, rule(d, "formats").result());
        assertEquals(Result.FAIL, rule(d, "scan").result());
        assertEquals(Result.PASS, rule(d, "output-signed").result());
        assertEquals(List.of("scan: the scan reported findings"), d.reasons());
    }

    @Test
    void severalFailuresAreAllReported() {
        Decision d = prod(with(good(), b -> b.scan(ScanVerdict.FINDINGS).finiteWeights(Check.FAILED).name("x")));
        assertFalse(d.allowed());
        assertEquals(List.of("scan", "finite", "name"), d.rules().stream()
                .filter(r -> r.result() == Result.FAIL).map(RuleResult::id).toList());
        assertEquals(3, d.reasons().size());
    }

    @Test
    void expiredExceptionsCanBeListedForCleanUp() {
        ReleasePolicy policy = ReleasePolicy.parse("release.yaml", POLICY.getBytes(StandardCharsets.UTF_8), catalogue);
        assertEquals(List.of("bob"), policy.expiredAt(NOW.instant()).stream().map(Exemption::approver).toList());
        assertEquals(2, policy.expiredAt(Instant.parse("2027-01-01T00:00:00Z")).size());
    }

    @Test
    void unknownEnvironmentIsDeniedByDefault() {
        Decision d = gate.evaluate(good(), "moon", NOW);
        assertFalse(d.allowed());
        assertTrue(d.rules().isEmpty());
        assertTrue(d.reasons().getFirst().contains("no environment 'moon'") && d.reasons().getFirst().contains("default deny"),
                d.reasons().toString());
        assertEquals(gate.evaluate(good(), "prod", NOW).policyDigest(), d.policyDigest());
    }

    @Test
    void exceptionForOneEnvironmentDoesNotApplyElsewhere() {
        String twoEnvs = """
                version: 1
                environments:
                  a: {rules: [{id: reproducible, type: reproducible}]}
                  b: {rules: [{id: reproducible, type: reproducible}]}
                exceptions:
                  - {rule: reproducible, environment: a, model: Llama-merge@1, expires: 2030-01-01, approver: x, reason: y}
                """;
        GateEvaluator g = new GateEvaluator(ReleasePolicy.parse("release.yaml", twoEnvs.getBytes(), catalogue), catalogue);
        ModelFacts m = with(good(), b -> b.reproducible(Check.FAILED));
        assertTrue(g.evaluate(m, "a", NOW).allowed());
        assertFalse(g.evaluate(m, "b", NOW).allowed());
    }

    @Test
    void aRejectionDeniesInEveryEnvironmentEvenWhereReviewOnlyWarnsOrIsAbsent() {
        String policy = """
                version: 1
                environments:
                  dev: {rules: [{id: scan, type: scan-clean}, {id: review, type: review-approved, mode: warn}]}
                  sandbox: {rules: [{id: scan, type: scan-clean}]}
                """;
        GateEvaluator g = new GateEvaluator(ReleasePolicy.parse("release.yaml", policy.getBytes(), catalogue), catalogue);
        ModelFacts rejected = with(good(), b -> b.review(new Review(ReviewState.REJECTED, "sam", "rita")));
        for (String env : List.of("dev", "sandbox")) {
            Decision d = g.evaluate(rejected, env, NOW);
            assertFalse(d.allowed(), env + ": " + d.reasons());
            RuleResult r = rule(d, ReleasePolicy.REJECTION_RULE);
            assertEquals(Result.FAIL, r.result());
            assertTrue(r.message().contains("rejected by 'rita'"), r.message());
        }
        // no review at all is still only a warning in dev: the absence of approval is not a rejection
        assertTrue(g.evaluate(with(good(), b -> b.review(new Review(ReviewState.PENDING, "sam", null))), "dev", NOW).allowed());
    }

    @Test
    void onlyAnExceptionForTheRejectionRuleOverridesARejectionOnTheRecord() {
        String policy = """
                version: 1
                environments:
                  dev: {rules: [{id: scan, type: scan-clean}, {id: review, type: review-approved, mode: warn}]}
                exceptions:
                  - {rule: rejection, environment: dev, model: Llama-merge@1, expires: 2030-01-01, approver: carol, reason: rejected for a typo in the card only}
                """;
        GateEvaluator g = new GateEvaluator(ReleasePolicy.parse("release.yaml", policy.getBytes(), catalogue), catalogue);
        Decision d = g.evaluate(with(good(), b -> b.review(new Review(ReviewState.REJECTED, "sam", "rita"))), "dev", NOW);
        assertTrue(d.allowed(), d.reasons().toString());
        RuleResult r = rule(d, ReleasePolicy.REJECTION_RULE);
        assertEquals(Result.EXCEPTED, r.result());
        assertEquals("carol", r.exception().orElseThrow().approver());
    }

    @Test
    void passMessagesSpeakOfSourceModelsOnlyForSourceModels() {
        Decision merge = prod(good());
        assertFalse(rule(merge, "name").message().contains("source model"), rule(merge, "name").message());
        assertFalse(rule(merge, "reproducible").message().contains("source model"), rule(merge, "reproducible").message());
    }
}
