package dev.amalgam.policy;

import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/** The kinds of release rule; {@link #id()} is the {@code type:} value in release.yaml. */
public enum RuleType {
    /** Every weight file is in one of the listed formats ({@code formats: [safetensors]}). */
    FORMATS_ALLOWED("formats-allowed", Set.of("formats")),
    /** The content scan found nothing and could scan everything. */
    SCAN_CLEAN("scan-clean", Set.of()),
    /** Every tensor was checked and holds no NaN or infinity. */
    FINITE_WEIGHTS("finite-weights", Set.of()),
    /** The model ({@code output: true}) and its inputs ({@code inputs: true}) carry valid signatures by trusted keys. */
    SIGNED("signed", Set.of("inputs", "output")),
    /** A reviewer other than the submitter approved. */
    REVIEW_APPROVED("review-approved", Set.of()),
    /** The combined license suits the environment ({@code commercial}, {@code region}, {@code users}, {@code deny}). */
    LICENSE_ALLOWED("license-allowed", Set.of("commercial", "region", "users", "deny")),
    /** The model's name carries the prefix its licenses require. */
    NAME_OBLIGATIONS("name-obligations", Set.of()),
    /** Re-running the merge gave the identical output digest. */
    REPRODUCIBLE("reproducible", Set.of()),
    /**
     * The newest signed evaluation on {@code dataset} meets the bounds: {@code max-perplexity},
     * {@code max-kl} (to the reference named by {@code kl-reference}, a model name), {@code finite-logits}.
     */
    EVALUATED("evaluated", Set.of("dataset", "max-perplexity", "max-kl", "kl-reference", "finite-logits"));

    private final String id;
    private final Set<String> parameters;

    RuleType(String id, Set<String> parameters) {
        this.id = id;
        this.parameters = parameters;
    }

    public String id() {
        return id;
    }

    /** The type-specific keys a rule of this type may have. */
    public Set<String> parameters() {
        return parameters;
    }

    public static Optional<RuleType> byId(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
    }
}
