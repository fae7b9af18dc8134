package dev.amalgam.ledger.event;

import java.util.List;

/** A model was released to an environment after its policy allowed it. */
@EventType(name = "model.released", summary = "a model was released to an environment; a `policy.decided` allowing it comes just before")
public record ModelReleased(
        @Field("`name@version`") String model,
        @Field("root digest of the model") String rootDigest,
        @Field("target environment") String environment,
        @Field("`released`") String outcome,
        @Field("digest of the policy file that decided") String policyDigest,
        @Field("empty: releases carry no statement") String statement,
        @Field("every rule: `id`, `type`, `mode`, `result`, `message`, `exception`") List<RuleOutcome> rules) implements LedgerEvent {

    public ModelReleased {
        rules = rules == null ? List.of() : List.copyOf(rules);
    }
}
