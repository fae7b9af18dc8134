package dev.amalgam.ledger.event;

/** A reviewer (not the submitter) approved or rejected a merge's output. */
@EventType(name = "merge.reviewed", summary = "a reviewer approved or rejected a merge's output (four eyes)")
public record MergeReviewed(
        @Field("merge job id") long merge,
        @Field("root digest of the reviewed output model") String output,
        @Field("`approve` or `reject`") String decision,
        @Field("the reviewer's comment (empty when none)") String comment) implements LedgerEvent {
}
