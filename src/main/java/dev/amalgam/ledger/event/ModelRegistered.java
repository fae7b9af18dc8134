package dev.amalgam.ledger.event;

import java.util.List;

/** A model (source or merge output) was stored, scanned and signed by the registry. */
@EventType(name = "model.registered", summary = "a model's files were stored, scanned and signed by the registry")
public record ModelRegistered(
        @Field("`name@version`") String model,
        @Field("OMS root digest of the model's files (`sha256:...`)") String rootDigest,
        @Field("`source` or `merge` (absent in the oldest entries: `source`)") String origin,
        @Field("declared license (Hugging Face id or SPDX expression)") String license,
        @Field("scan verdict (`clean`, `findings`, ...)") String scan,
        @Field("non-finite weight check: `passed`, `failed` or `not-checked`") String finiteWeights,
        @Field("publisher signature state (absent: `missing`)") String publisherSignature,
        @Field("key id that made the publisher signature, or null") String publisherKey,
        @Field("digest of the registry's OMS signature blob (`sha256:...`)") String registrySignature,
        @Field("status at registration (absent: `registered`)") String status,
        @Field("digest of the scan report blob (hex), or null") String scanReport,
        @Field("every file: `path`, `sha256` (hex), `size` (bytes)") List<File> files) implements LedgerEvent {

    public ModelRegistered {
        if (origin == null) origin = "source";
        if (publisherSignature == null) publisherSignature = "missing";
        if (status == null) status = "registered";
        files = files == null ? List.of() : List.copyOf(files);
    }

    /** One file of the model. */
    public record File(String path, String sha256, long size) {
    }
}
