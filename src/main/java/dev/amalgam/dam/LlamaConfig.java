package dev.amalgam.dam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The {@code config.json} fields a llama-style forward pass needs. */
public record LlamaConfig(int hidden, int heads, int kvHeads, int intermediate, int layers, int vocab,
                          double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings) {
    public LlamaConfig {
        if (hidden <= 0 || heads <= 0 || kvHeads <= 0 || intermediate <= 0 || layers <= 0 || vocab <= 0) {
            throw new IllegalArgumentException("config sizes must be positive");
        }
        if (hidden % heads != 0) throw new IllegalArgumentException("hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        if (heads % kvHeads != 0) throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        if ((hidden / heads) % 2 != 0) throw new IllegalArgumentException("the head size " + hidden / heads + " must be even (rotary embedding)");
    }

    public int headDim() {
        return hidden / heads;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }

    /** Reads a model folder's config.json; missing or odd fields are errors naming the folder. */
    public static LlamaConfig read(Path modelDir) throws IOException {
        Path file = modelDir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(modelDir + ": no config.json");
        JsonNode c = new ObjectMapper().readTree(file.toFile());
        String where = file.toString();
        JsonNode arch = c.get("architectures");
        if (arch != null && arch.isArray() && !arch.isEmpty()) {
            String a = arch.get(0).asText();
            if (!a.equals("LlamaForCausalLM") && !a.equals("MistralForCausalLM")) {
                throw new IllegalArgumentException(where + ": architecture " + a
                        + " is not supported by dam fit (llama-style models without biases: LlamaForCausalLM, MistralForCausalLM)");
            }
        }
        int heads = integer(c, "num_attention_heads", where, null);
        try {
            return new LlamaConfig(integer(c, "hidden_size", where, null), heads,
                    integer(c, "num_key_value_heads", where, heads), integer(c, "intermediate_size", where, null),
                    integer(c, "num_hidden_layers", where, null), integer(c, "vocab_size", where, null),
                    number(c, "rms_norm_eps", 1e-6), number(c, "rope_theta", 10000.0),
                    c.has("tie_word_embeddings") && c.get("tie_word_embeddings").asBoolean());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    private static int integer(JsonNode c, String key, String where, Integer fallback) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) {
            if (fallback != null) return fallback;
            throw new IllegalArgumentException(where + ": no " + key);
        }
        if (!v.canConvertToInt()) throw new IllegalArgumentException(where + ": " + key + " is not an integer");
        return v.intValue();
    }

    private static double number(JsonNode c, String key, double fallback) {
        JsonNode v = c.get(key);
        return v == null || !v.isNumber() ? fallback : v.doubleValue();
    }
}
