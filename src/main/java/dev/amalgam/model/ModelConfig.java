package dev.amalgam.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A decoder-only model's {@code config.json} as the forward pass runs it: the llama family
 * ({@code LlamaForCausalLM}, {@code MistralForCausalLM}, {@code Qwen2ForCausalLM}) with biases
 * where the family or config asks for them, rotary scaling, the MLP activation, an explicit head
 * size and tied embeddings. Every field is either implemented, known to have no effect on a forward
 * pass in evaluation (ids, dtype, dropout, cache flags), or an error naming it: a config never
 * scores differently from its reference because a field was skipped.
 */
public record ModelConfig(String family, int hidden, int heads, int kvHeads, int headDim, int intermediate, int layers,
                          int vocab, double rmsNormEps, double ropeTheta, RopeScaling ropeScaling, Integer maxPositions,
                          Activation activation, boolean qkvBias, boolean outputBias, boolean mlpBias,
                          boolean tieWordEmbeddings, Integer slidingWindow) {
    /** Families by their {@code architectures} entry. */
    private static final Map<String, String> FAMILIES = Map.of("LlamaForCausalLM", "llama",
            "MistralForCausalLM", "mistral", "Qwen2ForCausalLM", "qwen2");

    /** Fields that change nothing in an evaluation forward pass (bookkeeping, generation, training-only). */
    private static final Set<String> NO_EFFECT = Set.of("architectures", "model_type", "torch_dtype", "dtype",
            "transformers_version", "_name_or_path", "name_or_path", "initializer_range", "use_cache", "pad_token_id",
            "bos_token_id", "eos_token_id", "attention_dropout", "output_attentions", "output_hidden_states",
            "return_dict", "tokenizer_class", "is_decoder", "is_encoder_decoder", "tie_encoder_decoder",
            "chunk_size_feed_forward", "id2label", "label2id", "problem_type", "prefix", "task_specific_params");

    /** Fields the forward pass implements (read below). */
    private static final Set<String> IMPLEMENTED = Set.of("hidden_size", "num_attention_heads", "num_key_value_heads",
            "head_dim", "intermediate_size", "num_hidden_layers", "vocab_size", "rms_norm_eps", "rope_theta",
            "rope_scaling", "rope_parameters", "max_position_embeddings", "hidden_act", "attention_bias", "mlp_bias",
            "tie_word_embeddings", "sliding_window", "use_sliding_window", "max_window_layers", "pretraining_tp",
            "layer_types", "partial_rotary_factor");

    public ModelConfig {
        if (hidden <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || intermediate <= 0 || layers <= 0 || vocab <= 0) {
            throw new IllegalArgumentException("config sizes must be positive");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("the head size " + headDim + " must be even (rotary embedding)");
        if (!(rmsNormEps >= 0) || !(ropeTheta > 0)) throw new IllegalArgumentException("rms_norm_eps and rope_theta must be positive");
    }

    /** Size of the concatenated query heads. */
    public int qDim() {
        return heads * headDim;
    }

    /** Size of the concatenated key (or value) heads. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Parameters of the forward pass (weights and biases). */
    public long parameters() {
        long attn = (long) hidden * qDim() * 2 + (long) hidden * kvDim() * 2;
        long bias = (qkvBias ? qDim() + 2L * kvDim() : 0) + (outputBias ? hidden : 0) + (mlpBias ? 2L * intermediate + hidden : 0);
        long layer = attn + 3L * hidden * intermediate + 2L * hidden + bias;
        return layers * layer + (long) vocab * hidden * (tieWordEmbeddings ? 1 : 2) + hidden;
    }

    /** Reads a model folder's config.json. */
    public static ModelConfig read(Path modelDir) throws IOException {
        Path file = modelDir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(modelDir + ": no config.json");
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not JSON (" + e.getOriginalMessage() + ")");
        }
        return parse(c, file.toString());
    }

    /** Parses a config object; {@code where} names it in errors. */
    public static ModelConfig parse(JsonNode c, String where) {
        if (c == null || !c.isObject()) throw new IllegalArgumentException(where + ": config is not a JSON object");
        String family = family(c, where);
        for (Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!NO_EFFECT.contains(key) && !IMPLEMENTED.contains(key)) {
                throw new IllegalArgumentException(where + ": config field " + key
                        + " is not implemented by the forward pass (it would change the model's outputs or cannot be judged)");
            }
        }
        int heads = integer(c, "num_attention_heads", where, null);
        int hidden = integer(c, "hidden_size", where, null);
        if (!c.has("head_dim") && hidden % heads != 0) {
            throw new IllegalArgumentException(where + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        }
        int headDim = integer(c, "head_dim", where, hidden / heads);
        Integer maxPositions = c.has("max_position_embeddings") ? integer(c, "max_position_embeddings", where, null) : null;
        requireValue(c, "pretraining_tp", 1, where);
        requireValue(c, "partial_rotary_factor", 1, where);
        JsonNode rope = c.has("rope_parameters") ? c.get("rope_parameters") : c.get("rope_scaling");
        if (c.has("rope_parameters") && c.has("rope_scaling") && !c.get("rope_scaling").isNull()) {
            throw new IllegalArgumentException(where + ": both rope_parameters and rope_scaling: give one");
        }
        double theta = number(c, "rope_theta", 10000.0, where);
        if (rope != null && rope.has("rope_theta")) theta = rope.get("rope_theta").asDouble();
        RopeScaling scaling = RopeScaling.parse(rope, maxPositions, where);
        if (scaling.type() == RopeScaling.Type.DYNAMIC && maxPositions == null
                || scaling.type() == RopeScaling.Type.YARN && scaling.originalMaxPositions() == null && maxPositions == null) {
            throw new IllegalArgumentException(where + ": rope_scaling " + scaling.type().name().toLowerCase()
                    + " needs max_position_embeddings");
        }
        boolean attentionBias = bool(c, "attention_bias", false, where);
        boolean qkvBias = family.equals("qwen2") || attentionBias;
        boolean outputBias = !family.equals("qwen2") && attentionBias;
        if (family.equals("qwen2") && c.has("attention_bias")) {
            throw new IllegalArgumentException(where + ": attention_bias is not a Qwen2 field (Qwen2 always has q/k/v biases)");
        }
        Integer window = slidingWindow(c, family, where);
        try {
            return new ModelConfig(family, hidden, heads, integer(c, "num_key_value_heads", where, heads), headDim,
                    integer(c, "intermediate_size", where, null), integer(c, "num_hidden_layers", where, null),
                    integer(c, "vocab_size", where, null), number(c, "rms_norm_eps", 1e-6, where), theta, scaling, maxPositions,
                    Activation.named(c.has("hidden_act") ? c.get("hidden_act").asText() : "silu"),
                    qkvBias, outputBias, bool(c, "mlp_bias", false, where),
                    bool(c, "tie_word_embeddings", false, where), window);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith(where) ? e.getMessage() : where + ": " + e.getMessage());
        }
    }

    private static String family(JsonNode c, String where) {
        JsonNode arch = c.get("architectures");
        if (arch == null || !arch.isArray() || arch.isEmpty()) {
            throw new IllegalArgumentException(where + ": no architectures entry (supported: " + supported() + ")");
        }
        String a = arch.get(0).asText();
        String family = FAMILIES.get(a);
        if (family == null || arch.size() > 1) {
            throw new IllegalArgumentException(where + ": architecture " + a + " is not implemented by the forward pass"
                    + " (supported: " + supported() + ")");
        }
        if (c.has("model_type") && !c.get("model_type").asText().equals(family)) {
            throw new IllegalArgumentException(where + ": model_type " + c.get("model_type").asText() + " does not match " + a);
        }
        return family;
    }

    private static String supported() {
        return String.join(", ", FAMILIES.keySet().stream().sorted().toList());
    }

    /**
     * Mistral's window (null when none), or an error where sliding attention would apply: Qwen2's
     * {@code use_sliding_window} and per-layer {@code layer_types} other than full attention.
     */
    private static Integer slidingWindow(JsonNode c, String family, String where) {
        JsonNode types = c.get("layer_types");
        if (types != null && !types.isNull()) {
            for (JsonNode t : types) {
                if (!t.asText().equals("full_attention")) {
                    throw new IllegalArgumentException(where + ": layer_types entry " + t.asText()
                            + " is not implemented (only full_attention)");
                }
            }
        }
        if (family.equals("qwen2")) {
            if (bool(c, "use_sliding_window", false, where)) {
                throw new IllegalArgumentException(where + ": use_sliding_window true is not implemented (Qwen2 sliding window attention)");
            }
            return null; // sliding_window and max_window_layers only count with use_sliding_window
        }
        for (String key : List.of("use_sliding_window", "max_window_layers")) {
            if (c.has(key)) throw new IllegalArgumentException(where + ": config field " + key + " is not a " + family + " field");
        }
        JsonNode w = c.get("sliding_window");
        if (w == null || w.isNull()) return null;
        if (!family.equals("mistral")) {
            throw new IllegalArgumentException(where + ": sliding_window is not implemented for " + family);
        }
        return integer(c, "sliding_window", where, null);
    }

    private static void requireValue(JsonNode c, String key, int value, String where) {
        JsonNode v = c.get(key);
        if (v != null && !v.isNull() && v.asDouble() != value) {
            throw new IllegalArgumentException(where + ": " + key + " " + v + " is not implemented (only " + value + ")");
        }
    }

    private static int integer(JsonNode c, String key, String where, Integer fallback) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) {
            if (fallback != null) return fallback;
            throw new IllegalArgumentException(where + ": no " + key);
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException(where + ": " + key + " is not an integer");
        return v.intValue();
    }

    private static double number(JsonNode c, String key, double fallback, String where) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return fallback;
        if (!v.isNumber()) throw new IllegalArgumentException(where + ": " + key + " is not a number");
        return v.doubleValue();
    }

    private static boolean bool(JsonNode c, String key, boolean fallback, String where) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw new IllegalArgumentException(where + ": " + key + " is not true or false");
        return v.booleanValue();
    }
}
