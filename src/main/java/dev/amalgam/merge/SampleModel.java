package dev.amalgam.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.merge.kernel.CounterRandom;
import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import dev.amalgam.safetensors.SafetensorsWriter;
import dev.amalgam.safetensors.StagedDirectory;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorSpec;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tiny but real-shaped random models (llama, mistral, qwen2 layouts) for tests, demos and
 * benchmarks. Values come from counter-based draws keyed by seed and tensor name, so the same
 * arguments give the same bytes; with {@code like} the model is that base plus a scaled random
 * delta, as a fine-tune would be.
 */
public final class SampleModel {
    /** Shape arguments of a sample model. */
    public record Spec(String arch, int layers, int hidden, int intermediate, int vocab, long seed, DType dtype) {
        /** The shape {@code amalgam sample-model} writes without shape arguments. */
        public static final Spec DEFAULT = new Spec("llama", 2, 64, 128, 256, 0, DType.BF16);

        public Spec {
            if (!List.of("llama", "mistral", "qwen2").contains(arch)) {
                throw new IllegalArgumentException("sample-model supports --arch llama, mistral or qwen2, not " + arch);
            }
            if (layers < 1 || hidden < 1 || intermediate < 1 || vocab < 1) {
                throw new IllegalArgumentException("layers, hidden, intermediate and vocab must be positive");
            }
            if (!dtype.isMergeFloat()) throw new IllegalArgumentException("dtype must be bfloat16, float16 or float32");
        }
    }

    private SampleModel() {
    }

    /**
     * The shape of a model folder written by this class (or any config.json with the same keys),
     * so a variant {@code --like} it needs no shape arguments. The seed is 0.
     */
    public static Spec specOf(Path model) throws IOException {
        Path config = model.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("--like model " + model + " has no config.json to take its shape from");
        }
        var c = new ObjectMapper().readTree(config.toFile());
        for (String key : new String[]{"model_type", "num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size"}) {
            if (!c.hasNonNull(key)) {
                throw new IllegalArgumentException("--like model " + model + ": config.json has no " + key
                        + " (give the shape arguments instead)");
            }
        }
        String dt = c.path("torch_dtype").asText("bfloat16");
        DType dtype = DType.fromTorchName(dt).orElseThrow(() -> new IllegalArgumentException(
                "--like model " + model + ": config.json torch_dtype " + dt + " is not a float type"));
        return new Spec(c.get("model_type").asText(), c.get("num_hidden_layers").asInt(), c.get("hidden_size").asInt(),
                c.get("intermediate_size").asInt(), c.get("vocab_size").asInt(), 0, dtype);
    }

    public static List<TensorSpec> tensors(Spec s) {
        List<TensorSpec> out = new ArrayList<>();
        long h = s.hidden(), i = s.intermediate();
        out.add(new TensorSpec("model.embed_tokens.weight", s.dtype(), new long[]{s.vocab(), h}));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            out.add(new TensorSpec(p + "input_layernorm.weight", s.dtype(), new long[]{h}));
            for (String proj : new String[]{"q_proj", "k_proj", "v_proj", "o_proj"}) {
                out.add(new TensorSpec(p + "self_attn." + proj + ".weight", s.dtype(), new long[]{h, h}));
                if (s.arch().equals("qwen2") && !proj.equals("o_proj")) {
                    out.add(new TensorSpec(p + "self_attn." + proj + ".bias", s.dtype(), new long[]{h}));
                }
            }
            out.add(new TensorSpec(p + "post_attention_layernorm.weight", s.dtype(), new long[]{h}));
            out.add(new TensorSpec(p + "mlp.gate_proj.weight", s.dtype(), new long[]{i, h}));
            out.add(new TensorSpec(p + "mlp.up_proj.weight", s.dtype(), new long[]{i, h}));
            out.add(new TensorSpec(p + "mlp.down_proj.weight", s.dtype(), new long[]{h, i}));
        }
        out.add(new TensorSpec("model.norm.weight", s.dtype(), new long[]{h}));
        out.add(new TensorSpec("lm_head.weight", s.dtype(), new long[]{s.vocab(), h}));
        return out;
    }

    /** Writes a model folder; {@code like} (may be null) is a base model folder to perturb. */
    public static void write(Path dir, Spec spec, Path like, double deltaScale) throws IOException {
        MergeKernels k = Kernels.get();
        List<TensorSpec> specs = tensors(spec);
        SafetensorsModel base = like == null ? null : SafetensorsModel.open(like);
        try (StagedDirectory stage = StagedDirectory.begin(dir); Arena arena = Arena.ofConfined()) {
            int chunk = 1 << 16;
            float[] values = new float[chunk], baseValues = new float[chunk];
            MemorySegment buf = arena.allocate((long) chunk * 4, 64);
            try (var w = SafetensorsWriter.create(stage.path(), specs, SafetensorsWriter.DEFAULT_SHARD_SIZE)) {
                for (TensorSpec t : specs) {
                    Tensor bt = base == null ? null : base.tensor(t.name());
                    if (base != null && (bt == null || bt.elementCount() != t.elementCount())) {
                        throw new IllegalArgumentException("--like model " + like + " has no tensor " + t.name()
                                + " of shape " + java.util.Arrays.toString(t.shape()) + " (use the same shape arguments)");
                    }
                    boolean norm = t.name().endsWith("norm.weight");
                    CounterRandom rnd = new CounterRandom(spec.seed(), t.name(), 0);
                    long n = t.elementCount();
                    for (long c = 0; c < n; c += chunk) {
                        int len = (int) Math.min(chunk, n - c);
                        float scale = bt != null ? (float) deltaScale : norm ? 0.05f : 0.02f;
                        for (int j = 0; j < len; j++) {
                            long e = (c + j) * 4;
                            // sum of four uniforms: a cheap bell curve, variance 1/3
                            float g = rnd.uniform(e) + rnd.uniform(e + 1) + rnd.uniform(e + 2) + rnd.uniform(e + 3) - 2f;
                            values[j] = g * 1.7320508f * scale + (bt == null && norm ? 1f : 0f);
                        }
                        if (bt != null) {
                            k.load(bt.data(), bt.dtype(), c, baseValues, len);
                            k.add(values, baseValues, values, len);
                        }
                        k.store(values, len, buf, t.dtype(), 0);
                        w.write(t.name(), c * t.dtype().byteSize(), buf.asSlice(0, (long) len * t.dtype().byteSize()));
                    }
                }
                w.finish();
            }
            writeConfig(stage.path(), spec);
            stage.commit();
        } finally {
            if (base != null) base.close();
        }
    }

    /**
     * A small but loadable BPE tokenizer.json with one token per embedding row: {@code <unk>},
     * {@code <s>} and {@code </s>} (special) then {@code t3}, {@code t4}, ...
     */
    static ObjectNode tokenizer(ObjectMapper json, int vocab) {
        ObjectNode t = json.createObjectNode();
        t.put("version", "1.0");
        t.putNull("truncation");
        t.putNull("padding");
        var added = t.putArray("added_tokens");
        String[] special = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < Math.min(3, vocab); i++) {
            ObjectNode a = added.addObject();
            a.put("id", i);
            a.put("content", special[i]);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        t.putNull("normalizer");
        t.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
        t.putNull("post_processor");
        t.putNull("decoder");
        ObjectNode m = t.putObject("model");
        m.put("type", "BPE");
        m.putNull("dropout");
        m.put("unk_token", "<unk>");
        m.putNull("continuing_subword_prefix");
        m.putNull("end_of_word_suffix");
        m.put("fuse_unk", false);
        m.put("byte_fallback", false);
        m.put("ignore_merges", false);
        ObjectNode v = m.putObject("vocab");
        for (int i = 0; i < vocab; i++) v.put(i < 3 ? special[i] : "t" + i, i);
        m.putArray("merges");
        return t;
    }

    private static void writeConfig(Path dir, Spec s) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode c = json.createObjectNode();
        String archClass = switch (s.arch()) {
            case "mistral" -> "MistralForCausalLM";
            case "qwen2" -> "Qwen2ForCausalLM";
            default -> "LlamaForCausalLM";
        };
        c.putArray("architectures").add(archClass);
        c.put("model_type", s.arch());
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.intermediate());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", Math.max(1, s.hidden() / 64));
        c.put("num_key_value_heads", Math.max(1, s.hidden() / 64));
        c.put("vocab_size", s.vocab());
        c.put("rms_norm_eps", 1e-5);
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", s.dtype().torchName());
        json.writeValue(dir.resolve("config.json").toFile(), c);
        ObjectNode tok = json.createObjectNode();
        tok.put("model_max_length", 2048);
        tok.put("tokenizer_class", "PreTrainedTokenizerFast");
        json.writeValue(dir.resolve("tokenizer_config.json").toFile(), tok);
        json.writeValue(dir.resolve("tokenizer.json").toFile(), tokenizer(json, s.vocab()));
        Files.writeString(dir.resolve("README.md"), "Random " + s.arch() + " sample model made by amalgam sample-model"
                + " (seed " + s.seed() + "): for tests and benchmarks only.\n");
    }
}
