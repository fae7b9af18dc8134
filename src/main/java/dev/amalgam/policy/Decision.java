package dev.amalgam.policy;

import java.time.Instant;
import java.util.List;
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
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Decision {
        rules = List.copyOf(rules);
        reasons = List.copyOf(reasons);
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOW;
    }

    public Optional<RuleResult> rule(String id) {
        return rules.stream().filter(r -> r.id().equals(id)).findFirst();
    }
}
