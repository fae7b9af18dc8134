package dev.amalgam.merge;

import dev.amalgam.merge.method.TensorContext;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each method added for mergekit parity runs end to end through {@link MergeEngine} on tiny
 * sample models, passes {@link RecipeChecker}, and writes the same bytes on one thread or two.
 */
class NewMethodsEngineTest {
    @TempDir
    Path dir;

    static final Map<String, String> RECIPES = new LinkedHashMap<>();

    static {
        String three = "models: [{model: a}, {model: b, parameters: {weight: 0.6, density: 0.5}}, "
                + "{model: c, parameters: {weight: 0.4, density: 0.4}}]\nbase_model: a\n";
        RECIPES.put("della", three + "merge_method: della\nparameters: {epsilon: 0.1}\nrandom_seed: 3\n");
        RECIPES.put("della_linear", three + "merge_method: della_linear\nparameters: {lambda: 0.9}\n");
        RECIPES.put("sce", "models: [{model: a}, {model: b}, {model: c}]\nbase_model: a\nmerge_method: sce\n"
                + "parameters: {select_topk: 0.5}\n");
        RECIPES.put("nuslerp", "models: [{model: b, parameters: {weight: 0.3}}, {model: c, parameters: {weight: 0.7}}]\n"
                + "merge_method: nuslerp\n");
        RECIPES.put("nuslerp-base", "models: [{model: b, parameters: {weight: 1}}, {model: c, parameters: {weight: 1}}]\n"
                + "base_model: a\nmerge_method: nuslerp\nparameters: {nuslerp_flatten: false, nuslerp_row_wise: true}\n");
        RECIPES.put("multislerp", "models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 2}},"
                + " {model: c, parameters: {weight: 1}}]\nmerge_method: multislerp\n");
        RECIPES.put("karcher", "models: [{model: a}, {model: b}, {model: c}]\nmerge_method: karcher\n"
                + "parameters: {max_iter: 5, tol: 1.0e-6}\n");
        RECIPES.put("nearswap", "models: [{model: a}, {model: b}]\nbase_model: a\nmerge_method: nearswap\n"
                + "parameters: {t: 0.001}\n");
        RECIPES.put("arcee_fusion", "models: [{model: a}, {model: b}]\nbase_model: a\nmerge_method: arcee_fusion\n");
    }

    @BeforeEach
    void models() throws IOException {
        SampleModel.write(dir.resolve("a"), new SampleModel.Spec("llama", 2, 64, 160, 96, 1, DType.BF16), null, 0);
        SampleModel.write(dir.resolve("b"), new SampleModel.Spec("llama", 2, 64, 160, 96, 2, DType.BF16), dir.resolve("a"), 0.02);
        SampleModel.write(dir.resolve("c"), new SampleModel.Spec("llama", 2, 64, 160, 96, 3, DType.BF16), dir.resolve("a"), 0.02);
    }

    @Test
    void everyNewMethodMergesSampleModelsReproducibly() throws IOException {
        for (var e : RECIPES.entrySet()) {
            Recipe r = RecipeParser.parse(e.getValue(), dir, e.getKey() + ".yml");
            var check = RecipeChecker.check(r);
            assertTrue(check.ok(), e.getKey() + ": " + check.problems());
            assertTrue(check.notes().isEmpty(), e.getKey() + ": " + check.notes());
            Path one = dir.resolve(e.getKey() + "-1"), two = dir.resolve(e.getKey() + "-2");
            MergeEngine.run(new MergeRequest(r, ModelResolver.local(), one,
                    MergeOptions.defaults().withThreads(1), ProgressListener.NONE));
            // small parts force elementwise methods (nearswap) to split tensors across threads
            MergeEngine.run(new MergeRequest(r, ModelResolver.local(), two,
                    MergeOptions.defaults().withThreads(2), ProgressListener.NONE).withPartElements(TensorContext.CHUNK));
            byte[] bytes = Files.readAllBytes(one.resolve("model-00001-of-00001.safetensors"));
            assertArrayEquals(bytes, Files.readAllBytes(two.resolve("model-00001-of-00001.safetensors")), e.getKey());
            try (var out = SafetensorsModel.open(one); var a = SafetensorsModel.open(dir.resolve("a"))) {
                String name = "model.layers.1.mlp.up_proj.weight";
                assertEquals(a.info(name).elementCount(), out.info(name).elementCount(), e.getKey());
                assertTrue(out.names().size() >= a.names().size() - 1, e.getKey());
            }
        }
    }

    @Test
    void checkerReportsWrongInputCountsAndMissingBase() {
        var problems = RecipeChecker.check(RecipeParser.parse(
                "models: [{model: a}, {model: b}, {model: c}]\nbase_model: a\nmerge_method: nearswap\nparameters: {t: 0.1}\n",
                dir, "x.yml")).problems();
        assertTrue(problems.stream().anyMatch(p -> p.contains("exactly two")), problems.toString());
        problems = RecipeChecker.check(RecipeParser.parse(
                "models: [{model: b}, {model: c}]\nmerge_method: sce\n", dir, "x.yml")).problems();
        assertTrue(problems.stream().anyMatch(p -> p.contains("needs a base_model")), problems.toString());
        problems = RecipeChecker.check(RecipeParser.parse(
                "models: [{model: b, parameters: {weight: 1, epsilon: 0.1}}]\nbase_model: a\nmerge_method: della\n"
                        + "parameters: {nuslerp_flatten: true}\n", dir, "x.yml")).problems();
        assertTrue(problems.stream().anyMatch(p -> p.contains("unknown parameter for della")), problems.toString());
        problems = RecipeChecker.check(RecipeParser.parse(
                "models: [{model: b, parameters: {weight: 1}}, {model: c, parameters: {weight: 1}}]\nbase_model: a\n"
                        + "merge_method: nuslerp\n", dir, "x.yml")).problems();
        assertTrue(problems.isEmpty(), problems.toString());
    }
}
