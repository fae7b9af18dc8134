package dev.amalgam.ledger.event;

/** A merge job ended without output; its {@code merge.submitted} entry comes before it. */
@EventType(name = "merge.failed", summary = "a merge job failed; the reason as the API shows it")
public record MergeFailed(
        @Field("merge job id") long merge,
        @Field("why it failed (`failureReason`)") String reason,
        @Field("the fraction done when it stopped, in ten-thousandths, or null") Long progress,
        @Field("when it started running (ISO-8601), or null") String startedAt,
        @Field("when it ended (ISO-8601)") String finishedAt) implements LedgerEvent {
}
