package dev.amalgam.ledger.event;

/** A merge job was accepted and queued: the job as its submitter sees it, so a rebuild restores its id. */
@EventType(name = "merge.submitted", summary = "a merge job was accepted and queued; a rebuild restores it (and runs it, when nothing ended it)")
public record MergeSubmitted(
        @Field("merge job id") long merge,
        @Field("output name the job registers") String outputName,
        @Field("output version the job registers") String outputVersion,
        @Field("merge method") String method,
        @Field("the recipe as submitted (YAML)") String recipe,
        @Field("the recipe's random seed, or null") Long seed,
        @Field("when it was submitted (ISO-8601)") String submittedAt) implements LedgerEvent {
}
