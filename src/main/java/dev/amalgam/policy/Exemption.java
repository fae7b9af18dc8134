package dev.amalgam.policy;

import java.time.Instant;
import java.util.Objects;

/**
 * A time-boxed exception to one rule for one model (release.yaml {@code exceptions:}).
 *
 * @param environment the environment it applies to, or null for every environment
 * @param model a root digest ({@code sha256:…}), a name, or {@code name@version}
 * @param expires the exception no longer applies from this instant on
 */
public record Exemption(String rule, String environment, String model, Instant expires, String approver, String reason) {
    public Exemption {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(expires, "expires");
        Objects.requireNonNull(approver, "approver");
        Objects.requireNonNull(reason, "reason");
    }

    boolean covers(String ruleId, String env, ModelFacts model) {
        return rule.equals(ruleId) && (environment == null || environment.equals(env)) && model.isCalled(this.model);
    }

    public boolean isValidAt(Instant now) {
        return now.isBefore(expires);
    }
}
