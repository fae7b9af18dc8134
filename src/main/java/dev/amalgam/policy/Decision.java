package dev.amalgam.policy;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The gate's answer for one model in one environment. Deny overrides: any enforced rule that
 * fails denies; an unknown environment or one without rules denies (default deny).
 *
 * @param rules every rule of the environment with its result, in policy order
 * @param policyDigest SHA-256 of the release.yaml bytes used
 * @param catalogueDigest SHA-256 of the licenses.yaml bytes used
 * @param license the license combination computed for the environment, when there was one
 * @param reasons the messages that decided: the failures for a deny, otherwise a summary
 */
public record Decision(String environment, String model, String modelDigest, Outcome outcome, List<RuleResult> rules,
                       String policyDigest, String catalogueDigest, Instant evaluatedAt,
                       Optional<LicenseCombination> license, List<String> reasons) {

    public enum Outcome {
        ALLOW, DENY;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Decision {
        rules = List.copyOf(rules);
        reasons = List.copyOf(reasons);
    }

    /**
     * What a decision is about and what it rests on: the environment and model, the digests of
     * the policy and catalogue used, and when it was made.
     */
    public record Basis(String environment, String model, String modelDigest, String policyDigest,
                        String catalogueDigest, Instant evaluatedAt) {
    }

    /** Every enforced rule passed; {@code summary} says how many and what was only warned or excepted. */
    public static Decision allow(Basis b, List<RuleResult> rules, Optional<LicenseCombination> license, String summary) {
        return of(b, Outcome.ALLOW, rules, license, List.of(summary));
    }

    /** Denied for {@code reasons}: the failed rules, or why the default deny applies. */
    public static Decision deny(Basis b, List<RuleResult> rules, Optional<LicenseCombination> license, List<String> reasons) {
        return of(b, Outcome.DENY, rules, license, reasons);
    }

    /** Denied before any rule ran (an unknown environment): no rules, no license. */
    public static Decision defaultDeny(Basis b, String reason) {
        return of(b, Outcome.DENY, List.of(), Optional.empty(), List.of(reason));
    }

    private static Decision of(Basis b, Outcome outcome, List<RuleResult> rules, Optional<LicenseCombination> license,
                               List<String> reasons) {
        return new Decision(b.environment(), b.model(), b.modelDigest(), outcome, rules, b.policyDigest(),
                b.catalogueDigest(), b.evaluatedAt(), license, reasons);
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOW;
    }

    public Optional<RuleResult> rule(String id) {
        return rules.stream().filter(r -> r.id().equals(id)).findFirst();
    }
}
