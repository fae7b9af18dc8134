package dev.amalgam.model;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A config's {@code rope_scaling} (or transformers 5's {@code rope_parameters}): how the rotary
 * inverse frequencies are derived, as Hugging Face transformers' {@code modeling_rope_utils}
 * defines them for {@code default}, {@code linear}, {@code dynamic} (NTK), {@code yarn} and
 * {@code llama3}. Every key the chosen type does not use is an error, so a config never scores
 * differently from the reference because a field was skipped.
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          Integer originalMaxPositions, Double attentionFactor, double betaFast, double betaSlow,
                          Double mscale, Double mscaleAllDim, boolean truncate) {
    /** The rotary embedding variants implemented. */
    public enum Type { DEFAULT, LINEAR, DYNAMIC, YARN, LLAMA3 }

    /** No scaling: θ^(−2i/d). */
    public static final RopeScaling NONE = new RopeScaling(Type.DEFAULT, 1, 0, 0, null, null, 32, 1, null, null, true);

    private static final Set<String> COMMON = Set.of("rope_type", "type", "rope_theta");

    /**
     * Parses the object; {@code maxPositions} is the config's {@code max_position_embeddings} (null
     * when absent), {@code where} names the config for errors.
     */
    public static RopeScaling parse(JsonNode n, Integer maxPositions, String where) {
        if (n == null || n.isNull()) return NONE;
        if (!n.isObject()) throw new IllegalArgumentException(where + ": rope_scaling is not an object");
        JsonNode t = n.has("rope_type") ? n.get("rope_type") : n.get("type");
        String type = t == null ? "default" : t.asText();
        Set<String> allowed = switch (type) {
            case "default" -> Set.of();
            case "linear", "dynamic" -> Set.of("factor");
            case "llama3" -> Set.of("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings");
            case "yarn" -> Set.of("factor", "original_max_position_embeddings", "attention_factor", "beta_fast",
                    "beta_slow", "mscale", "mscale_all_dim", "truncate");
            default -> throw new IllegalArgumentException(where + ": rope_scaling type " + type
                    + " is not implemented (implemented: default, linear, dynamic, yarn, llama3)");
        };
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            String key = it.next().getKey();
            if (!COMMON.contains(key) && !allowed.contains(key)) {
                throw new IllegalArgumentException(where + ": rope_scaling field " + key + " is not implemented for type "
                        + type + (allowed.isEmpty() ? "" : " (implemented: " + String.join(", ", allowed.stream().sorted().toList()) + ")"));
            }
        }
        return switch (type) {
            case "default" -> NONE;
            case "linear" -> new RopeScaling(Type.LINEAR, positive(n, "factor", where), 0, 0, null, null, 32, 1, null, null, true);
            case "dynamic" -> new RopeScaling(Type.DYNAMIC, positive(n, "factor", where), 0, 0, null, null, 32, 1, null, null, true);
            case "llama3" -> {
                double low = positive(n, "low_freq_factor", where), high = positive(n, "high_freq_factor", where);
                if (high <= low) {
                    throw new IllegalArgumentException(where + ": rope_scaling high_freq_factor " + high
                            + " must be greater than low_freq_factor " + low);
                }
                yield new RopeScaling(Type.LLAMA3, positive(n, "factor", where), low, high,
                        (int) positive(n, "original_max_position_embeddings", where), null, 32, 1, null, null, true);
            }
            default -> {
                // transformers versions disagree on yarn's factor when original_max_position_embeddings is given
                // (some take max_position_embeddings / original instead of factor): only the unambiguous case runs
                if (n.has("original_max_position_embeddings") && maxPositions != null
                        && Math.abs(maxPositions / positive(n, "original_max_position_embeddings", where) - positive(n, "factor", where)) > 1e-9) {
                    throw new IllegalArgumentException(where + ": rope_scaling yarn with original_max_position_embeddings "
                            + n.get("original_max_position_embeddings") + " and factor " + n.get("factor")
                            + " whose ratio to max_position_embeddings " + maxPositions + " differs from factor is not implemented"
                            + " (transformers versions disagree on which factor applies)");
                }
                yield new RopeScaling(Type.YARN, positive(n, "factor", where), 0, 0,
                    n.has("original_max_position_embeddings") ? (int) positive(n, "original_max_position_embeddings", where) : null,
                    optional(n, "attention_factor"), orElse(optional(n, "beta_fast"), 32), orElse(optional(n, "beta_slow"), 1),
                    optional(n, "mscale"), optional(n, "mscale_all_dim"),
                    !n.has("truncate") || n.get("truncate").asBoolean(true));
            }
        };
    }

    /**
     * The inverse frequencies of a head of {@code dim} channels (dim/2 of them) for a forward call
     * over {@code seqLen} positions (only {@code dynamic} depends on it), each rounded to F32 as the
     * reference keeps them.
     */
    public float[] inverseFrequencies(int dim, double theta, int maxPositions, int seqLen) {
        int half = dim / 2;
        double base = theta;
        if (type == Type.DYNAMIC && seqLen > maxPositions) {
            // the NTK-aware base grows with the sequence; at or below max_position_embeddings it is θ
            base = theta * Math.pow(factor * seqLen / maxPositions - (factor - 1), dim / (dim - 2.0));
        }
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.pow(base, (2.0 * i) / dim);
        switch (type) {
            case LINEAR -> {
                for (int i = 0; i < half; i++) inv[i] /= factor;
            }
            case LLAMA3 -> {
                double old = originalMaxPositions, lowWavelen = old / lowFreqFactor, highWavelen = old / highFreqFactor;
                for (int i = 0; i < half; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen > lowWavelen) {
                        inv[i] = inv[i] / factor;
                    } else if (wavelen >= highWavelen) {
                        double smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                    }
                }
            }
            case YARN -> {
                int original = originalMaxPositions != null ? originalMaxPositions : maxPositions;
                double low = correctionDim(betaFast, dim, base, original), high = correctionDim(betaSlow, dim, base, original);
                if (truncate) {
                    low = Math.floor(low);
                    high = Math.ceil(high);
                }
                low = Math.max(low, 0);
                high = Math.min(high, dim - 1);
                if (low == high) high += 0.001;
                for (int i = 0; i < half; i++) {
                    double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
                    double extrapolation = 1 - ramp;
                    double extra = inv[i], inter = inv[i] / factor;
                    inv[i] = inter * (1 - extrapolation) + extra * extrapolation;
                }
            }
            default -> {
            }
        }
        float[] out = new float[half];
        for (int i = 0; i < half; i++) out[i] = (float) inv[i];
        return out;
    }

    /** The factor cos and sin are multiplied by (yarn's attention scaling; 1 for the others). */
    public double attentionScaling() {
        if (type != Type.YARN) return 1.0;
        if (attentionFactor != null) return attentionFactor;
        if (mscale != null && mscaleAllDim != null && mscale != 0 && mscaleAllDim != 0) {
            return yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim);
        }
        return yarnMscale(factor, 1);
    }

    private static double yarnMscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    private static double correctionDim(double rotations, int dim, double base, int maxPositions) {
        return dim * Math.log(maxPositions / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    private static double positive(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || !v.isNumber()) throw new IllegalArgumentException(where + ": rope_scaling has no number " + key);
        if (!(v.doubleValue() > 0) || Double.isInfinite(v.doubleValue())) {
            throw new IllegalArgumentException(where + ": rope_scaling " + key + " must be a positive number, not " + v);
        }
        return v.doubleValue();
    }

    private static Double optional(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? null : v.doubleValue();
    }

    private static double orElse(Double v, double fallback) {
        return v == null ? fallback : v;
    }
}
