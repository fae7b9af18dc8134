package dev.amalgam.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import dev.amalgam.safetensors.SafetensorsWriter;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorInfo;
import dev.amalgam.safetensors.TensorSpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The recipe's {@code dtype} is the precision of the inputs, as in mergekit: merging F32 models
 * with {@code dtype: bfloat16} (or {@code float16}) gives the same bytes as merging copies of
 * them already rounded to that dtype, for every method, with and without a tokenizer setting.
 */
class DtypeRoundingTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** Every method (dam aside: its coefficients are not model inputs), over models a (base), b, c. */
    static final Map<String, String> RECIPES = new LinkedHashMap<>();

    static {
        String weighted = "models: [{model: a}, {model: b, parameters: {weight: 0.6, density: 0.5}}, "
                + "{model: c, parameters: {weight: 0.4, density: 0.4}}]\nbase_model: a\n";
        String plain = "models: [{model: a}, {model: b}, {model: c}]\nbase_model: a\n";
        RECIPES.put("linear", "models: [{model: a, parameters: {weight: 0.2}}, {model: b, parameters: {weight: 0.5}},"
                + " {model: c, parameters: {weight: -0.3}}]\nmerge_method: linear\n");
        RECIPES.put("slerp", "models: [{model: a}, {model: b}]\nbase_model: a\nmerge_method: slerp\nparameters: {t: 0.3}\n");
        for (String m : List.of("task_arithmetic", "ties", "dare_ties", "dare_linear", "breadcrumbs", "breadcrumbs_ties",
                "della", "della_linear")) {
            RECIPES.put(m, weighted + "merge_method: " + m + "\nrandom_seed: 7\n"
                    + (m.startsWith("della") ? "parameters: {epsilon: 0.1}\n" : ""));
        }
        RECIPES.put("model_stock", plain + "merge_method: model_stock\n");
        RECIPES.put("passthrough", "models: [{model: b, parameters: {scale: 0.7}}]\nmerge_method: passthrough\n");
        RECIPES.put("sce", plain + "merge_method: sce\nparameters: {select_topk: 0.5}\n");
        RECIPES.put("nuslerp", "models: [{model: b, parameters: {weight: 0.3}}, {model: c, parameters: {weight: 0.7}}]\n"
                + "base_model: a\nmerge_method: nuslerp\n");
        RECIPES.put("multislerp", "models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 2}},"
                + " {model: c, parameters: {weight: 1}}]\nmerge_method: multislerp\n");
        RECIPES.put("karcher", "models: [{model: a}, {model: b}, {model: c}]\nmerge_method: karcher\n");
        RECIPES.put("nearswap", "models: [{model: a}, {model: b}]\nbase_model: a\nmerge_method: nearswap\nparameters: {t: 0.01}\n");
        RECIPES.put("arcee_fusion", "models: [{model: a}, {model: b}]\nbase_model: a\nmerge_method: arcee_fusion\n");
        RECIPES.put("ram", plain + "merge_method: ram\nparameters: {epsilon: 0.01}\n");
        RECIPES.put("ramplus_tl", plain + "merge_method: ramplus_tl\nparameters: {epsilon: 0.01, r: 0.5, alpha: 0.9}\n");
    }

    @BeforeEach
    void models() throws IOException {
        SampleModel.write(dir.resolve("a"), new SampleModel.Spec("llama", 2, 32, 48, 40, 1, DType.F32), null, 0);
        SampleModel.write(dir.resolve("b"), new SampleModel.Spec("llama", 2, 32, 48, 40, 2, DType.F32), dir.resolve("a"), 0.02);
        SampleModel.write(dir.resolve("c"), new SampleModel.Spec("llama", 2, 32, 48, 40, 3, DType.F32), dir.resolve("a"), 0.02);
    }

    @Test
    void everyMethodMergesF32InputsAsTheirBf16Roundings() throws IOException {
        for (String m : List.of("a", "b", "c")) roundedCopy(m, DType.BF16);
        List<String> differing = new ArrayList<>();
        for (var e : RECIPES.entrySet()) {
            if (!sameBytes(e.getKey(), e.getValue() + "dtype: bfloat16\n", "bf16")) differing.add(e.getKey());
        }
        assertEquals(List.of(), differing);
    }

    @Test
    void float16RoundsTheInputsToo() throws IOException {
        for (String m : List.of("a", "b", "c")) roundedCopy(m, DType.F16);
        for (String method : List.of("linear", "ties", "ram")) {
            assertTrue(sameBytes(method, RECIPES.get(method) + "dtype: float16\n", "f16"), method);
        }
    }

    @Test
    void tokenizerLaidOutEmbeddingsAreRoundedBeforeRowsAreBorrowedOrAveraged() throws IOException {
        // c's vocabulary lacks two of a's tokens and has two of its own: a union lays out every model
        ObjectNode tok = (ObjectNode) JSON.readTree(dir.resolve("c/tokenizer.json").toFile());
        ObjectNode vocab = (ObjectNode) tok.get("model").get("vocab");
        vocab.remove("t5");
        vocab.remove("t7");
        vocab.put("x5", 5);
        vocab.put("y7", 7);
        JSON.writeValue(dir.resolve("c/tokenizer.json").toFile(), tok);
        for (String m : List.of("a", "b", "c")) roundedCopy(m, DType.BF16);
        String recipe = RECIPES.get("linear") + "dtype: bfloat16\ntokenizer: {source: union, pad_to_multiple_of: 16}\n";
        assertTrue(sameBytes("union", recipe, "bf16"));
        // and the rounding is real: without dtype the F32 inputs give another model
        Path f32 = merge("union-f32", RECIPES.get("linear") + "out_dtype: bfloat16\ntokenizer: {source: union, pad_to_multiple_of: 16}\n");
        assertFalse(java.util.Arrays.equals(weights(f32), weights(dir.resolve("union-a"))));
    }

    @Test
    void withoutDtypeInputsAreReadAsStored() throws IOException {
        for (String m : List.of("a", "b", "c")) roundedCopy(m, DType.BF16);
        Path f32 = merge("stored", RECIPES.get("ties") + "out_dtype: bfloat16\n");
        Path rounded = merge("rounded", RECIPES.get("ties") + "dtype: bfloat16\n");
        assertFalse(java.util.Arrays.equals(weights(f32), weights(rounded)),
                "without dtype the F32 values are merged at full precision");
    }

    /** Merges the recipe over a, b, c (output "name-a") and over their rounded copies ("name-r"). */
    private boolean sameBytes(String name, String recipe, String suffix) throws IOException {
        Path original = merge(name + "-a", recipe);
        String copies = recipe.replaceAll("model: ([abc])\\b", "model: $1-" + suffix);
        Path rounded = merge(name + "-r", copies);
        return java.util.Arrays.equals(weights(original), weights(rounded));
    }

    private Path merge(String name, String recipe) throws IOException {
        Recipe r = RecipeParser.parse(recipe, dir, name + ".yml");
        return MergeEngine.run(MergeRequest.of(r, ModelResolver.local(), dir.resolve(name)))
                .output();
    }

    private static byte[] weights(Path model) throws IOException {
        return Files.readAllBytes(model.resolve("model-00001-of-00001.safetensors"));
    }

    /** A copy of model m with every float tensor converted to {@code to}: folder "m-bf16" / "m-f16". */
    private void roundedCopy(String m, DType to) throws IOException {
        Path src = dir.resolve(m), dst = dir.resolve(m + "-" + (to == DType.BF16 ? "bf16" : "f16"));
        Files.createDirectories(dst);
        try (var model = SafetensorsModel.open(src); Arena arena = Arena.ofConfined()) {
            List<TensorSpec> specs = new ArrayList<>();
            for (String n : model.names()) specs.add(new TensorSpec(n, to, model.info(n).shape()));
            try (var w = SafetensorsWriter.create(dst, specs, SafetensorsWriter.DEFAULT_SHARD_SIZE)) {
                for (String n : model.names()) {
                    Tensor t = model.tensor(n);
                    TensorInfo info = t.info();
                    int count = (int) info.elementCount();
                    float[] values = new float[count];
                    Kernels.scalar().load(t.data(), t.dtype(), 0, values, count);
                    MemorySegment out = arena.allocate((long) count * to.byteSize());
                    Kernels.scalar().store(values, count, out, to, 0);
                    w.write(n, 0, out);
                }
                w.finish();
            }
        }
        try (var files = Files.list(src)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().endsWith(".safetensors") && !f.getFileName().toString().endsWith(".index.json")) {
                    Files.copy(f, dst.resolve(f.getFileName()));
                }
            }
        }
    }
}
