package dev.amalgam.merge;

import dev.amalgam.merge.method.TensorContext;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MergeEngineTest {
    @TempDir
    Path dir;

    @Test
    void splittingElementwiseTensorsIntoPartsChangesNoByte() throws IOException {
        var spec = new SampleModel.Spec("qwen2", 2, 64, 512, 300, 1, DType.BF16);
        SampleModel.write(dir.resolve("a"), spec, null, 0);
        SampleModel.write(dir.resolve("b"), spec, dir.resolve("a"), 0.01);
        for (String method : new String[]{"linear", "task_arithmetic"}) {
            Recipe r = RecipeParser.parse("""
                    models: [{model: a, parameters: {weight: 0.6}}, {model: b, parameters: {weight: 0.4}}]
                    merge_method: %s
                    base_model: a
                    dtype: float16
                    """.formatted(method), dir, "test.yml");
            var options = MergeOptions.defaults().withThreads(2);
            MergeEngine.run(new MergeRequest(r, ModelResolver.local(), dir.resolve(method + "-whole"), options, ProgressListener.NONE));
            // parts of one chunk, plus a part size that leaves a ragged last part
            MergeEngine.run(new MergeRequest(r, ModelResolver.local(), dir.resolve(method + "-parts"), options, ProgressListener.NONE)
                    .withPartElements(TensorContext.CHUNK));
            MergeEngine.run(new MergeRequest(r, ModelResolver.local(), dir.resolve(method + "-ragged"), options.withThreads(1), ProgressListener.NONE)
                    .withPartElements(3 * TensorContext.CHUNK));
            byte[] whole = Files.readAllBytes(dir.resolve(method + "-whole/model-00001-of-00001.safetensors"));
            assertArrayEquals(whole, Files.readAllBytes(dir.resolve(method + "-parts/model-00001-of-00001.safetensors")), method);
            assertArrayEquals(whole, Files.readAllBytes(dir.resolve(method + "-ragged/model-00001-of-00001.safetensors")), method);
            try (var m = SafetensorsModel.open(dir.resolve(method + "-whole"))) {
                assertEquals(DType.F16, m.info("model.layers.1.mlp.up_proj.weight").dtype());
                assertTrue(m.info("model.layers.1.mlp.up_proj.weight").elementCount() > 3L * TensorContext.CHUNK);
            }
        }
    }

    @Test
    void streamedInputsGiveTheSameBytesAsTheMappings() throws IOException {
        writeModels(new SampleModel.Spec("llama", 2, 64, 512, 300, 1, DType.BF16));
        String weighted = "[{model: a, parameters: {weight: 0.6}}, {model: b, parameters: {weight: 0.3}}, {model: c, parameters: {weight: 0.2}}]";
        Map<String, String> recipes = new LinkedHashMap<>();
        recipes.put("linear", weighted);
        recipes.put("task_arithmetic", weighted);
        recipes.put("nearswap", "[{model: a}, {model: b}]\nparameters: {t: 0.001}");
        // a part size that is not a multiple of the window, so windows end inside parts
        assertStreamedEqualsMapped(recipes, TensorContext.WINDOW + 3 * TensorContext.CHUNK);
    }

    @Test
    void multiPassMethodsReadThroughPositionalReadsGiveTheSameBytesAsTheMappings() throws IOException {
        // 1.5 M-element MLP tensors: more than one window, and large enough for the sampled selection
        writeModels(new SampleModel.Spec("llama", 1, 1024, 1536, 300, 1, DType.BF16));
        String weighted = "[{model: b, parameters: {weight: 0.6, density: 0.4}}, {model: c, parameters: {weight: 0.3, density: 0.7}}]";
        Map<String, String> recipes = new LinkedHashMap<>();
        recipes.put("ties", weighted);
        recipes.put("breadcrumbs_ties", weighted);
        recipes.put("dare_ties", weighted + "\nrandom_seed: 5");
        recipes.put("della", weighted.replace("density: 0.4", "density: 0.4, epsilon: 0.1"));
        recipes.put("model_stock", "[{model: a}, {model: b}, {model: c}]");
        recipes.put("slerp", "[{model: a}, {model: b}]\nparameters: {t: 0.3}");
        assertStreamedEqualsMapped(recipes, MergeEngine.PART);
    }

    /** Models a, b and c: a base and two fine-tune-like variants of it. */
    private void writeModels(SampleModel.Spec spec) throws IOException {
        SampleModel.write(dir.resolve("a"), spec, null, 0);
        SampleModel.write(dir.resolve("b"), spec, dir.resolve("a"), 0.01);
        SampleModel.write(dir.resolve("c"), spec, dir.resolve("a"), 0.02);
    }

    /** Merges each method's recipe (models, then what follows them; base a) both ways and compares the bytes. */
    private void assertStreamedEqualsMapped(Map<String, String> recipes, long part) throws IOException {
        var options = MergeOptions.defaults().withThreads(2);
        for (var e : recipes.entrySet()) {
            String method = e.getKey();
            Recipe r = RecipeParser.parse("""
                    models: %s
                    merge_method: %s
                    base_model: a
                    """.formatted(e.getValue(), method), dir, "test.yml");
            MergeEngine.run(new MergeRequest(r, ModelResolver.local(), dir.resolve(method + "-mapped"), options, ProgressListener.NONE)
                    .withPartElements(part).withStream(false));
            MergeEngine.run(new MergeRequest(r, ModelResolver.local(), dir.resolve(method + "-streamed"), options, ProgressListener.NONE)
                    .withPartElements(part).withStream(true));
            assertArrayEquals(Files.readAllBytes(dir.resolve(method + "-mapped/model-00001-of-00001.safetensors")),
                    Files.readAllBytes(dir.resolve(method + "-streamed/model-00001-of-00001.safetensors")), method);
        }
    }
}
