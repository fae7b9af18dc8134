package dev.amalgam.ledger.event;

/** A merge was re-run from its recorded recipe and inputs, and its output compared with the registered one. */
@EventType(name = "merge.reproduced", summary = "a merge was re-run and its output digest compared (the gate's `reproducible` fact)")
public record MergeReproduced(
        @Field("merge job id") long merge,
        @Field("root digest of the registered output") String output,
        @Field("root digest the re-run produced") String reproduced,
        @Field("whether the two digests are equal") boolean identical,
        @Field("engine version that re-ran it") String engine,
        @Field("the decision id clients see") long id,
        @Field("when it was recorded (ISO-8601)") String decidedAt) implements LedgerEvent {
}
