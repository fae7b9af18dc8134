package dev.amalgam.policy;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

import dev.amalgam.policy.ModelFacts.Check;
import dev.amalgam.policy.ModelFacts.ReviewState;
import dev.amalgam.policy.ModelFacts.ScanVerdict;
import dev.amalgam.policy.ModelFacts.Signature;
import dev.amalgam.policy.RuleResult.Result;

/**
 * Evaluates the release policy of one environment for one model: every rule is evaluated and
 * reported; enforced failures not covered by a valid exception deny (deny-overrides); an
 * unknown environment denies (default deny).
 */
public final class GateEvaluator {
    private final ReleasePolicy policy;
    private final LicenseCatalogue catalogue;
    private final LicenseCombiner combiner;

    public GateEvaluator(ReleasePolicy policy, LicenseCatalogue catalogue) {
        this.policy = policy;
        this.catalogue = catalogue;
        this.combiner = new LicenseCombiner(catalogue);
    }

    /** The decision for {@code model} in {@code environment} at {@code clock.instant()}. */
    public Decision evaluate(ModelFacts model, String environment, Clock clock) {
        Instant now = clock.instant();
        Optional<Environment> env = policy.environment(environment);
        if (env.isEmpty()) {
            String msg = "no environment '" + environment + "' in " + ReleasePolicy.FILE_NAME + " (known: "
                    + String.join(", ", policy.environmentNames()) + "): default deny";
            return Decision.defaultDeny(basis(environment, model, now), msg);
        }
        Environment e = env.get();
        Decision.Basis basis = basis(e.name(), model, now);
        Optional<LicenseCombination> license = licenses(model, e.licenseTarget());
        List<RuleResult> results = new ArrayList<>();
        for (ReleaseRule rule : e.rules()) {
            Optional<String> failure = check(rule, model, license);
            results.add(result(rule, failure, e.name(), model, now));
        }
        if (model.review().state() == ReviewState.REJECTED) results.add(rejection(model, e.name(), now));
        List<String> failures = new ArrayList<>();
        for (RuleResult r : results) {
            if (r.result() == Result.FAIL) failures.add(r.id() + ": " + r.message());
        }
        if (results.isEmpty()) {
            return Decision.deny(basis, results, license, List.of("environment '" + e.name() + "' has no rules: default deny"));
        }
        if (!failures.isEmpty()) return Decision.deny(basis, results, license, failures);
        long warned = results.stream().filter(r -> r.result() == Result.WARN).count();
        long excepted = results.stream().filter(r -> r.result() == Result.EXCEPTED).count();
        return Decision.allow(basis, results, license, "all " + results.size() + " rules of '" + e.name()
                + "' passed or are not enforced (" + warned + " warnings, " + excepted + " excepted)");
    }

    private Decision.Basis basis(String environment, ModelFacts model, Instant now) {
        return new Decision.Basis(environment, model.name(), model.digest(), policy.digest(), catalogue.digest(), now);
    }

    private RuleResult result(ReleaseRule rule, Optional<String> failure, String env, ModelFacts model, Instant now) {
        if (failure.isEmpty()) {
            return new RuleResult(rule.id(), rule.type(), rule.mode(), Result.PASS, passMessage(rule, model), Optional.empty());
        }
        String message = failure.get();
        List<Exemption> covering = policy.exemptions().stream().filter(x -> x.covers(rule.id(), env, model)).toList();
        Optional<Exemption> valid = covering.stream().filter(x -> x.isValidAt(now)).findFirst();
        if (valid.isPresent()) {
            Exemption x = valid.get();
            return new RuleResult(rule.id(), rule.type(), rule.mode(), Result.EXCEPTED,
                    message + "; excepted until " + x.expires() + " (approved by " + x.approver() + ": " + x.reason() + ")",
                    valid);
        }
        if (!covering.isEmpty()) {
            Exemption x = covering.getFirst();
            message += "; exception by " + x.approver() + " expired at " + x.expires();
        }
        Result r = rule.mode() == ReleaseRule.Mode.WARN ? Result.WARN : Result.FAIL;
        return new RuleResult(rule.id(), rule.type(), rule.mode(), r, message, Optional.empty());
    }

    /** The built-in {@link ReleasePolicy#REJECTION_RULE}: enforced in every environment, overridden only by an exception. */
    private RuleResult rejection(ModelFacts model, String env, Instant now) {
        ReleaseRule rule = new ReleaseRule(ReleasePolicy.REJECTION_RULE, RuleType.REVIEW_APPROVED, ReleaseRule.Mode.ENFORCE,
                "a rejected merge is denied in every environment", List.of(), false, false, null);
        String by = model.review().reviewer() == null ? "a reviewer" : "'" + model.review().reviewer() + "'";
        return result(rule, Optional.of("rejected by " + by + ": a rejection blocks release in every environment"
                + " unless an exception for rule '" + ReleasePolicy.REJECTION_RULE + "' overrides it"), env, model, now);
    }

    private static String passMessage(ReleaseRule rule, ModelFacts model) {
        boolean source = model.inputs().isEmpty();
        return switch (rule.type()) {
            case FORMATS_ALLOWED -> "all weight files are in allowed formats " + rule.formats();
            case SCAN_CLEAN -> "scan is clean";
            case FINITE_WEIGHTS -> "all weights are finite";
            case SIGNED -> "signatures verified by trusted keys";
            case REVIEW_APPROVED -> source ? "intake review approved by a reviewer other than the registrant"
                    : "approved by a reviewer other than the submitter";
            case LICENSE_ALLOWED -> "licenses allow this environment";
            case NAME_OBLIGATIONS -> source ? "a source model keeps its publisher's name (no obligations to check)"
                    : "name meets the license obligations of the inputs";
            case EVALUATED -> "the signed evaluation on '" + rule.evaluation().dataset() + "' meets the bounds";
            case REPRODUCIBLE -> source ? "a source model is not produced by a merge (nothing to re-run)"
                    : "re-run gave the identical output digest";
        };
    }

    /** The license combination of the model's inputs (or of the model itself, for a source model). */
    private Optional<LicenseCombination> licenses(ModelFacts model, LicenseTarget target) {
        List<LicenseInput> inputs = new ArrayList<>();
        List<String> parseErrors = new ArrayList<>();
        if (model.inputs().isEmpty()) {
            if (model.license() != null) add(inputs, parseErrors, model.name(), model.license());
        } else {
            for (ModelFacts.Input in : model.inputs()) add(inputs, parseErrors, in.name(), in.license());
        }
        if (!parseErrors.isEmpty()) {
            List<LicenseProblem> problems = parseErrors.stream()
                    .map(m -> new LicenseProblem(LicenseProblem.Kind.UNKNOWN_LICENSE, m, null, m)).toList();
            return Optional.of(new LicenseCombination(false, Optional.empty(), List.of(), Obligations.NONE,
                    problems, parseErrors));
        }
        return Optional.of(combiner.combine(inputs, target));
    }

    private static void add(List<LicenseInput> inputs, List<String> errors, String name, String expression) {
        if (expression == null || expression.isBlank()) {
            errors.add("input " + name + ": no license declared");
            return;
        }
        try {
            inputs.add(LicenseInput.of(name, expression));
        } catch (LicenseExpressionException e) {
            errors.add("input " + name + ": license expression does not parse: " + e.getMessage());
        }
    }

    /** Empty when the rule holds, else why not. */
    private static Optional<String> check(ReleaseRule rule, ModelFacts m, Optional<LicenseCombination> license) {
        return switch (rule.type()) {
            case FORMATS_ALLOWED -> {
                if (m.formats().isEmpty()) yield Optional.of("no weight files recorded");
                TreeSet<String> bad = new TreeSet<>(m.formats());
                bad.removeAll(rule.formats());
                yield bad.isEmpty() ? Optional.empty()
                        : Optional.of("formats " + bad + " are not allowed here (allowed: " + rule.formats() + ")");
            }
            case SCAN_CLEAN -> m.scan() == ScanVerdict.CLEAN ? Optional.empty() : Optional.of(switch (m.scan()) {
                case FINDINGS -> "the scan reported findings";
                case NOT_SCANNED -> "the model was not scanned";
                default -> "the scan could not complete (fail closed)";
            });
            case FINITE_WEIGHTS -> m.finiteWeights() == Check.PASSED ? Optional.empty()
                    : Optional.of(m.finiteWeights() == Check.FAILED ? "some weights are NaN or infinite"
                    : "weights were not checked for NaN/infinity");
            case SIGNED -> signed(rule, m);
            case REVIEW_APPROVED -> review(m.review());
            case LICENSE_ALLOWED -> license.map(GateEvaluator::licenseFailure)
                    .orElse(Optional.of("no license declared"));
            case NAME_OBLIGATIONS -> nameObligations(m, license);
            case REPRODUCIBLE -> m.reproducible() == Check.PASSED || m.inputs().isEmpty() ? Optional.empty()
                    : Optional.of(m.reproducible() == Check.FAILED ? "re-running the merge gave a different output digest"
                    : "reproducibility was not checked");
            case EVALUATED -> evaluated(rule.evaluation(), m);
        };
    }

    /** The newest signed evaluation on the rule's dataset against its bounds; none is a failure that says so. */
    private static Optional<String> evaluated(ReleaseRule.EvaluationBounds b, ModelFacts m) {
        ModelFacts.Evaluation e = m.evaluations().stream().filter(x -> x.dataset().equals(b.dataset())).findFirst().orElse(null);
        if (e == null) {
            return Optional.of("no signed evaluation on dataset '" + b.dataset() + "' (run POST /api/v1/models/{ref}/evaluations"
                    + " with dataset '" + b.dataset() + "')");
        }
        List<String> out = new ArrayList<>();
        if (b.finiteLogits() && !(e.nonFiniteFraction() == 0)) {
            out.add(String.format(java.util.Locale.ROOT, "%.6g of the logits on '%s' are NaN or infinite", e.nonFiniteFraction(), b.dataset()));
        }
        if (b.maxPerplexity() != null && !(e.perplexity() <= b.maxPerplexity())) {
            out.add(String.format(java.util.Locale.ROOT, "perplexity on '%s' is %.4f, above %s", b.dataset(), e.perplexity(),
                    b.maxPerplexity()));
        }
        if (b.maxKl() != null) {
            Double kl = null;
            for (var k : e.kl().entrySet()) {
                String name = k.getKey().contains("@") ? k.getKey().substring(0, k.getKey().lastIndexOf('@')) : k.getKey();
                if (name.equals(b.klReference()) || k.getKey().equals(b.klReference())) kl = k.getValue();
            }
            if (kl == null) {
                out.add("the evaluation on '" + b.dataset() + "' has no KL to " + b.klReference() + " (evaluate with it as a reference)");
            } else if (!(kl <= b.maxKl())) {
                out.add(String.format(java.util.Locale.ROOT, "KL to %s on '%s' is %.6f, above %s", b.klReference(), b.dataset(), kl, b.maxKl()));
            }
        }
        return out.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", out));
    }

    private static Optional<String> licenseFailure(LicenseCombination c) {
        if (c.allowed()) return Optional.empty();
        return Optional.of(String.join("; ", c.problems().stream().map(LicenseProblem::message).toList()));
    }

    /** Name obligations bind derivatives: a source model keeps its publisher's name. */
    private static Optional<String> nameObligations(ModelFacts m, Optional<LicenseCombination> license) {
        if (m.inputs().isEmpty()) return Optional.empty();
        if (license.isEmpty() || license.get().expression().isEmpty()) {
            return Optional.of("licenses unknown, so the name obligations cannot be checked");
        }
        Optional<String> prefix = license.get().obligations().namePrefix();
        if (prefix.isEmpty()) return Optional.empty();
        return m.bareName().startsWith(prefix.get()) ? Optional.empty()
                : Optional.of("name '" + m.bareName() + "' must begin with '" + prefix.get()
                + "' (required by " + license.get().expressionText() + "; case-sensitive)");
    }

    private static Optional<String> review(ModelFacts.Review r) {
        if (r.state() == ReviewState.NONE) {
            return Optional.of("not reviewed: a source model needs an intake review (POST /api/v1/models/{ref}/review)"
                    + " by a reviewer other than the principal who registered it");
        }
        if (r.state() != ReviewState.APPROVED) {
            return Optional.of("review state is " + r.state().name().toLowerCase(Locale.ROOT) + ", not approved");
        }
        if (r.reviewer() == null || r.reviewer().isBlank()) return Optional.of("approved, but the reviewer is not recorded");
        if (r.reviewer().equals(r.submitter())) {
            return Optional.of("approved by its own submitter '" + r.reviewer() + "' (four eyes required)");
        }
        return Optional.empty();
    }

    private static Optional<String> signed(ReleaseRule rule, ModelFacts m) {
        List<String> bad = new ArrayList<>();
        if (rule.output()) describe("model " + m.name(), m.signature()).ifPresent(bad::add);
        if (rule.inputs()) {
            for (ModelFacts.Input in : m.inputs()) describe("input " + in.name(), in.signature()).ifPresent(bad::add);
        }
        return bad.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", bad));
    }

    private static Optional<String> describe(String what, Signature s) {
        return switch (s.state()) {
            case TRUSTED -> Optional.empty();
            case MISSING -> Optional.of(what + " is not signed");
            case INVALID -> Optional.of(what + " has a signature that does not verify");
            case UNTRUSTED -> Optional.of(s.keyId() == null
                    ? what + " is signed by a key or keyless identity that policies/keys/ does not trust"
                    : what + " is signed by key " + s.keyId() + ", which is not in policies/keys/");
        };
    }
}
