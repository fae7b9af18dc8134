package dev.amalgam.ledger.event;

/** A model was evaluated on a dataset and the registry signed the result. */
@EventType(name = "model.evaluated", summary = "a model was evaluated on a dataset (`amalgam eval`); the signed in-toto statement is a blob")
public record ModelEvaluated(
        @Field("`name@version`") String model,
        @Field("root digest of the model") String rootDigest,
        @Field("the dataset's name as given") String dataset,
        @Field("sha256 of the token file (`sha256:...`)") String dataDigest,
        @Field("digest of the signed evaluation statement (`sha256:...`)") String statement,
        @Field("the metrics and settings as JSON (as the statement's predicate)") String result,
        @Field(value = "the evaluation id clients see", optional = true) Long id,
        @Field(value = "when it finished (ISO-8601)", optional = true) String evaluatedAt) implements LedgerEvent {
}
