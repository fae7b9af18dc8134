package dev.amalgam.policy;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One named rule of an environment.
 *
 * @param formats for {@code formats-allowed}: the allowed formats, lower case
 * @param inputs for {@code signed}: inputs must be signed by trusted keys
 * @param output for {@code signed}: the model itself must be signed by a trusted key
 * @param license for {@code license-allowed}: what the environment needs from licenses
 * @param evaluation for {@code evaluated}: the dataset and the bounds (null otherwise)
 */
public record ReleaseRule(String id, RuleType type, Mode mode, String description,
                          List<String> formats, boolean inputs, boolean output, LicenseTarget license,
                          EvaluationBounds evaluation) {

    /** What an {@code evaluated} rule asks of the newest evaluation on a dataset; a null bound is not checked. */
    public record EvaluationBounds(String dataset, Double maxPerplexity, Double maxKl, String klReference, boolean finiteLogits) {
    }

    /** A rule of any type but {@code evaluated}. */
    public ReleaseRule(String id, RuleType type, Mode mode, String description,
                       List<String> formats, boolean inputs, boolean output, LicenseTarget license) {
        this(id, type, mode, description, formats, inputs, output, license, null);
    }

    /** {@code enforce}: a failure denies. {@code warn}: a failure is reported but does not deny. */
    public enum Mode {
        ENFORCE, WARN;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public ReleaseRule {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(mode, "mode");
        formats = List.copyOf(formats);
        license = license == null ? LicenseTarget.ANY : license;
    }
}
