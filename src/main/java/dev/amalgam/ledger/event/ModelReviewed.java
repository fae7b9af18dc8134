package dev.amalgam.ledger.event;

/** The intake review of a source model: a reviewer (not the registrant) approved or rejected it. */
@EventType(name = "model.reviewed", summary = "a reviewer (not the registrant) approved or rejected a source model (intake review)")
public record ModelReviewed(
        @Field("`name@version`") String model,
        @Field("root digest of the reviewed model") String rootDigest,
        @Field("`approve` or `reject`") String decision,
        @Field("the reviewer's comment (empty when none)") String comment,
        @Field(value = "the decision id clients see", optional = true) Long id,
        @Field(value = "when it was decided (ISO-8601)", optional = true) String decidedAt) implements LedgerEvent {
}
