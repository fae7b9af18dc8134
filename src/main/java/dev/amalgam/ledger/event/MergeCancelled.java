package dev.amalgam.ledger.event;

/** A merge job was cancelled (the entry's actor asked for it); its {@code merge.submitted} entry comes before it. */
@EventType(name = "merge.cancelled", summary = "a merge job was cancelled; the entry's actor is who cancelled it")
public record MergeCancelled(
        @Field("merge job id") long merge,
        @Field("`cancelled before it started` or `cancelled while running`") String reason,
        @Field("the fraction done when it stopped, in ten-thousandths, or null") Long progress,
        @Field("when it started running (ISO-8601), or null") String startedAt,
        @Field("when it ended (ISO-8601)") String finishedAt) implements LedgerEvent {
}
