package dev.amalgam.merge.recipe;

import java.util.Map;

/**
 * mergekit's {@code tokenizer:} block: where the output vocabulary comes from ({@code union},
 * {@code base} or a model), per-token embedding overrides and vocabulary padding. The legacy
 * {@code tokenizer_source: X} is the same as {@code tokenizer: {source: X}}.
 */
public record TokenizerSpec(String source, Map<String, TokenEmbedding> tokens, Integer padToMultipleOf) {
    public static final String UNION = "union";
    public static final String BASE = "base";
    private static final String MODEL_PREFIX = "model:";

    public boolean isUnion() {
        return UNION.equals(source);
    }

    public boolean isBase() {
        return BASE.equals(source);
    }

    /** The model whose tokenizer is the output's (a {@code model:} prefix removed), or null for union/base. */
    public String model() {
        if (isUnion() || isBase()) return null;
        return modelReference(source);
    }

    /** A model reference as mergekit writes it, with or without Amalgam's explicit {@code model:} prefix. */
    static String modelReference(String s) {
        return s.startsWith(MODEL_PREFIX) ? s.substring(MODEL_PREFIX.length()) : s;
    }

    /** How one token's embedding row is chosen for models that lack it (or for all, when forced). */
    public record TokenEmbedding(Kind kind, String model, Integer tokenId, String token, boolean force) {
        public enum Kind {
            /** the row of this very token in {@code model} */
            MODEL,
            /** the row of another token ({@code token} or {@code tokenId}) in {@code model} */
            MODEL_TOKEN,
            /** a row of zeros */
            ZERO
        }
    }
}
