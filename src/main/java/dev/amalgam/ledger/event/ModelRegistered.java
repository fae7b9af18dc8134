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
        @Field("every file: `path`, `sha256` (hex), `size` (bytes), `format` (optional)") List<File> files,
        @Field(value = "the model id clients see", optional = true) Long id,
        @Field(value = "registration time (ISO-8601), as the API shows it", optional = true) String registeredAt,
        @Field(value = "what a Hugging Face repository said about the model (source `hf://ORG/NAME@REVISION`, the card's"
                + " license and declared base models, config.json), or absent", optional = true) Hub hub)
        implements LedgerEvent {

    /** An entry without Hub facts (every registration before Hub sources, and plain folders without a card). */
    public ModelRegistered(String model, String rootDigest, String origin, String license, String scan,
                           String finiteWeights, String publisherSignature, String publisherKey, String registrySignature,
                           String status, String scanReport, List<File> files, Long id, String registeredAt) {
        this(model, rootDigest, origin, license, scan, finiteWeights, publisherSignature, publisherKey, registrySignature,
                status, scanReport, files, id, registeredAt, null);
    }

    public ModelRegistered {
        if (origin == null) origin = "source";
        if (publisherSignature == null) publisherSignature = "missing";
        if (status == null) status = "registered";
        files = files == null ? List.of() : List.copyOf(files);
    }

    /** One file of the model. */
    public record File(String path, String sha256, long size, @Field(value = "detected format", optional = true) String format) {
    }

    /**
     * The Hub repository's own statements: its source identity, the card's license and whether the
     * registrant overrode it, declared base models (each resolved to a registered model's root digest,
     * or null when none was registered), the card's tags and datasets, and config.json's architecture.
     */
    public record Hub(
            @Field(value = "`hf://ORG/NAME@REVISION`, or null for a plain folder", optional = true) String source,
            @Field(value = "the card's license as the catalogue maps it, or null", optional = true) String cardLicense,
            @Field(value = "why the registrant overrode the card's license, or null", optional = true) String licenseOverride,
            @Field("declared `base_model` entries: `model` (Hub id) and `rootDigest` (null: not registered)") List<BaseModel> baseModels,
            @Field(value = "`base_model_relation` (merge, finetune, adapter, quantized), or null", optional = true) String relation,
            @Field("the card's tags") List<String> tags,
            @Field("the card's datasets") List<String> datasets,
            @Field(value = "config.json `model_type`, or null", optional = true) String modelType,
            @Field("config.json `architectures`") List<String> architectures) {
        public Hub {
            baseModels = baseModels == null ? List.of() : List.copyOf(baseModels);
            tags = tags == null ? List.of() : List.copyOf(tags);
            datasets = datasets == null ? List.of() : List.copyOf(datasets);
            architectures = architectures == null ? List.of() : List.copyOf(architectures);
        }
    }

    /** A declared ancestor: its Hub id, and the registered model it resolved to (null: none). */
    public record BaseModel(String model, @Field(value = "root digest of the registered model", optional = true) String rootDigest) {
    }
}
