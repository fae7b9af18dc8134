package dev.amalgam.policy;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Everything the release gate needs to know about a model, as plain facts the registry gathers
 * (from its database, scans, signature checks against {@code policies/keys/} and the ledger).
 * The evaluator trusts these facts; it reads no files and calls no services.
 *
 * @param name the model's name (a {@code name@version} reference also works)
 * @param digest the OMS root digest, {@code sha256:<hex>}
 * @param formats formats of the weight files ({@code safetensors}, {@code gguf}, {@code pickle}, ...)
 * @param scan the verdict of the content scan over all files
 * @param finiteWeights whether every tensor was checked to hold only finite values
 * @param signature the signature over the model (for a merge: the output)
 * @param inputs the merge's inputs; empty for a source model
 * @param review the review state (for a source model usually {@link ReviewState#NONE})
 * @param license the model's own declared SPDX expression, or null; used when there are no inputs
 * @param reproducible whether a re-run of the merge gave the identical digest
 * @param evaluations the model's evaluations whose signed statements verified, newest first
 */
public record ModelFacts(String name, String digest, Set<String> formats, ScanVerdict scan, Check finiteWeights,
                         Signature signature, List<Input> inputs, Review review, String license,
                         Check reproducible, List<Evaluation> evaluations) {

    /**
     * One evaluation as its signed statement records it: the dataset's name and token-file digest,
     * perplexity, share of non-finite logits, and the KL to each reference by its {@code name@version}.
     */
    public record Evaluation(String dataset, String dataDigest, double perplexity, double nonFiniteFraction,
                             java.util.Map<String, Double> kl) {
        public Evaluation {
            Objects.requireNonNull(dataset, "dataset");
            kl = java.util.Map.copyOf(kl);
        }
    }

    public ModelFacts {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(digest, "digest");
        formats = formats.stream().map(f -> f.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        Objects.requireNonNull(scan, "scan");
        Objects.requireNonNull(finiteWeights, "finiteWeights");
        Objects.requireNonNull(signature, "signature");
        inputs = List.copyOf(inputs);
        Objects.requireNonNull(review, "review");
        Objects.requireNonNull(reproducible, "reproducible");
        evaluations = evaluations == null ? List.of() : List.copyOf(evaluations);
    }

    /** One input of a merge: its name, digest, declared license expression and signature. */
    public record Input(String name, String digest, String license, Signature signature) {
        public Input {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(digest, "digest");
            Objects.requireNonNull(signature, "signature");
        }
    }

    /** Outcome of verifying a signature; {@code keyId} names the key (fingerprint or file) when there is one. */
    public record Signature(SignatureState state, String keyId) {
        public Signature {
            Objects.requireNonNull(state, "state");
        }

        public static Signature trusted(String keyId) {
            return new Signature(SignatureState.TRUSTED, keyId);
        }

        public static final Signature MISSING = new Signature(SignatureState.MISSING, null);
    }

    /** MISSING: no signature; INVALID: it does not verify; UNTRUSTED: valid but by a key not in policies/keys; TRUSTED. */
    public enum SignatureState { MISSING, INVALID, UNTRUSTED, TRUSTED }

    /** The result of the content scan; anything but CLEAN fails closed. */
    public enum ScanVerdict { CLEAN, FINDINGS, NOT_SCANNED, ERROR }

    /** A yes/no check that may not have been run. */
    public enum Check { PASSED, FAILED, NOT_CHECKED }

    /** Review state with the two principals, so four eyes can be checked. */
    public record Review(ReviewState state, String submitter, String reviewer) {
        public Review {
            Objects.requireNonNull(state, "state");
        }

        public static final Review NONE = new Review(ReviewState.NONE, null, null);
    }

    public enum ReviewState { NONE, PENDING, APPROVED, REJECTED }

    /**
     * Starts facts for a model; everything not set fails closed (not scanned, not checked,
     * unsigned, not reviewed, no license, no inputs).
     */
    public static Builder builder(String name, String digest) {
        return new Builder(name, digest);
    }

    /** A builder holding these facts, to change some of them. */
    public Builder toBuilder() {
        return new Builder(name, digest).formats(formats).scan(scan).finiteWeights(finiteWeights)
                .signature(signature).inputs(inputs).review(review).license(license).reproducible(reproducible).evaluations(evaluations);
    }

    /** Builds {@link ModelFacts}; see {@link #builder}. */
    public static final class Builder {
        private String name;
        private String digest;
        private Set<String> formats = Set.of();
        private ScanVerdict scan = ScanVerdict.NOT_SCANNED;
        private Check finiteWeights = Check.NOT_CHECKED;
        private Signature signature = Signature.MISSING;
        private List<Input> inputs = List.of();
        private Review review = Review.NONE;
        private String license;
        private Check reproducible = Check.NOT_CHECKED;
        private List<Evaluation> evaluations = List.of();

        private Builder(String name, String digest) {
            this.name = name;
            this.digest = digest;
        }

        public Builder name(String v) { name = v; return this; }
        public Builder digest(String v) { digest = v; return this; }
        public Builder formats(Set<String> v) { formats = v; return this; }
        public Builder formats(String... v) { formats = Set.of(v); return this; }
        public Builder scan(ScanVerdict v) { scan = v; return this; }
        public Builder finiteWeights(Check v) { finiteWeights = v; return this; }
        public Builder signature(Signature v) { signature = v; return this; }
        public Builder inputs(List<Input> v) { inputs = v; return this; }
        public Builder review(Review v) { review = v; return this; }
        public Builder license(String v) { license = v; return this; }
        public Builder reproducible(Check v) { reproducible = v; return this; }
        public Builder evaluations(List<Evaluation> v) { evaluations = v; return this; }

        public ModelFacts build() {
            return new ModelFacts(name, digest, formats, scan, finiteWeights, signature, inputs, review, license,
                    reproducible, evaluations);
        }
    }

    /** True if {@code ref} is this model's digest, name, or the name part of a {@code name@version} name. */
    boolean isCalled(String ref) {
        if (ref.equals(digest) || ref.equals(name)) return true;
        int at = name.indexOf('@');
        return at > 0 && ref.equals(name.substring(0, at));
    }

    /** The name without an {@code @version} suffix. */
    String bareName() {
        int at = name.indexOf('@');
        return at > 0 ? name.substring(0, at) : name;
    }
}
