package dev.amalgam.ledger.event;

import java.util.List;

/** A merge job finished and its output was registered. */
@EventType(name = "merge.completed", summary = "a merge job finished; enough to re-run it and to rebuild its lineage")
public record MergeCompleted(
        @Field("merge job id") long merge,
        @Field("requested output name (absent: the output model's)") String outputName,
        @Field("requested output version (absent: the output model's)") String outputVersion,
        @Field("merge method") String method,
        @Field("the recipe as submitted (YAML)") String recipe,
        @Field("seed of seeded methods") long seed,
        @Field("engine version that ran it") String engine,
        @Field("root digest of the output model") String output,
        @Field("every input: `ref`, `rootDigest`, `license`, `role`") List<Input> inputs,
        @Field("digest of the signed SLSA provenance statement (`sha256:...`)") String provenance) implements LedgerEvent {

    public MergeCompleted {
        inputs = inputs == null ? List.of() : List.copyOf(inputs);
    }

    /** One input model and its role in the recipe. */
    public record Input(String ref, String rootDigest, String license, String role) {
    }
}
