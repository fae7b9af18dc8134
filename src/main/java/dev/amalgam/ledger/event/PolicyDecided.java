package dev.amalgam.ledger.event;

import java.util.List;

/** A deployment gate was asked about a model and answered. */
@EventType(name = "policy.decided", summary = "a deployment gate decision: the release policy evaluated for an environment")
public record PolicyDecided(
        @Field("`name@version`") String model,
        @Field("root digest of the model") String rootDigest,
        @Field("target environment") String environment,
        @Field("`allow` or `deny`") String outcome,
        @Field("digest of the policy file that decided") String policyDigest,
        @Field("digest of the signed verification summary (`sha256:...`)") String statement,
        @Field("every rule: `id`, `type`, `mode`, `result`, `message`, `exception`") List<RuleOutcome> rules) implements LedgerEvent {

    public PolicyDecided {
        rules = rules == null ? List.of() : List.copyOf(rules);
    }
}
