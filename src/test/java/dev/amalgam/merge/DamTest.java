package dev.amalgam.merge;

import dev.amalgam.dam.Coefficients;
import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.merge.method.TensorContext;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.merge.recipe.RecipeYaml;
import dev.amalgam.merge.recipe.SourceModel;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** merge_method: dam, against values computed here; its recipe rules; a merge through the engine. */
class DamTest {
    static final String NAME = "model.layers.0.mlp.down_proj.weight";

    @TempDir
    Path dir;

    /** Writes a coefficients folder holding one tensor. */
    Path coefficients(String name, float[][] rows) throws IOException {
        Path out = dir.resolve("coef-" + Math.abs((long) java.util.Arrays.deepHashCode(rows)) + "-" + name.length());
        Files.createDirectories(out);
        new Coefficients(Map.of(name, rows)).write(out);
        return out;
    }

    /**
     * Runs dam over F32 inputs given in ctx order with recipe positions {@code positions}, on
     * elements [offset, offset + n) of a tensor of {@code shape}.
     */
    float[] run(Path coef, List<float[]> xs, int[] positions, long[] shape, long offset, int n) throws IOException {
        MergeMethod dam = MergeMethods.find("dam").orElseThrow();
        List<TensorContext.Input> inputs = new ArrayList<>();
        for (int i = 0; i < xs.size(); i++) {
            MemorySegment seg = Arena.ofAuto().allocate((long) n * 4);
            MemorySegment.copy(xs.get(i), (int) offset, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, n);
            var info = new TensorInfo(NAME, DType.F32, new long[]{n}, 0, n * 4L);
            inputs.add(new TensorContext.Input("m" + i, new Tensor(info, seg, "mem"), i == 0, Map.of(), positions[i]));
        }
        float[] out = new float[n];
        try (SourceModel c = SourceModel.open("coef", coef)) {
            dam.merge(new TensorContext(NAME, shape, offset, inputs, Map.of("coefficients", "coef"), Kernels.get(), 1L,
                    (from, v, len) -> System.arraycopy(v, 0, out, (int) from, len), Map.of("coef", c)));
        }
        return out;
    }

    static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void scalesEachColumnOfEachModelByItsCoefficient() throws IOException {
        Random r = new Random(3);
        for (int cols : new int[]{64, 100, 7}) { // 64 divides the chunk, 100 and 7 do not
            int rows = 301, n = rows * cols;
            float[] a = random(r, n), b = random(r, n), c = random(r, n);
            float[][] coef = {random(r, cols), random(r, cols), random(r, cols)};
            Path folder = coefficients(NAME, coef);
            // inputs arrive base first (c is the base, third in the recipe): rows follow recipe positions
            float[] got = run(folder, List.of(c, a, b), new int[]{2, 0, 1}, new long[]{rows, cols}, 0, n);
            for (int i = 0; i < n; i++) {
                int col = i % cols;
                double want = (double) coef[0][col] * a[i] + (double) coef[1][col] * b[i] + (double) coef[2][col] * c[i];
                assertEquals(want, got[i], 1e-5 * Math.max(1, Math.abs(want)), "cols " + cols + " element " + i);
            }
            // a part of the tensor starting mid-row gives the same elements as the whole
            int from = (n > 4 * TensorContext.CHUNK ? 3 * TensorContext.CHUNK : n / 2) + 13, len = n - from;
            float[] part = run(folder, List.of(c, a, b), new int[]{2, 0, 1}, new long[]{rows, cols}, from, len);
            for (int i = 0; i < len; i++) assertEquals(Float.floatToIntBits(got[from + i]), Float.floatToIntBits(part[i]));
        }
    }

    @Test
    void oneDimensionalTensorsHaveACoefficientPerElement() throws IOException {
        float[] a = {1, 2, 3}, b = {10, 20, 30};
        Path folder = coefficients(NAME, new float[][]{{1, 0, 0.5f}, {0, 1, 0.25f}});
        assertArrayEquals(new float[]{1, 20, 9}, run(folder, List.of(a, b), new int[]{0, 1}, new long[]{3}, 0, 3));
    }

    @Test
    void missingWrongShapedOrNonFiniteCoefficientsAreErrorsNamingTheTensor() throws IOException {
        float[] a = {1, 2, 3, 4}, b = {1, 2, 3, 4};
        long[] shape = {2, 2};
        var missing = assertThrows(RecipeException.class, () -> run(coefficients("other.weight", new float[][]{{1, 1}, {1, 1}}),
                List.of(a, b), new int[]{0, 1}, shape, 0, 4));
        assertTrue(missing.getMessage().contains(NAME) && missing.getMessage().contains("no coefficients"), missing.getMessage());
        var shapeErr = assertThrows(RecipeException.class, () -> run(coefficients(NAME, new float[][]{{1, 1, 1}, {1, 1, 1}}),
                List.of(a, b), new int[]{0, 1}, shape, 0, 4));
        assertTrue(shapeErr.getMessage().contains("expected a float [2, 2] tensor"), shapeErr.getMessage());
        var nan = assertThrows(RecipeException.class, () -> run(coefficients(NAME, new float[][]{{1, Float.NaN}, {1, 1}}),
                List.of(a, b), new int[]{0, 1}, shape, 0, 4));
        assertTrue(nan.getMessage().contains("not finite"), nan.getMessage());
    }

    @Test
    void recipeNamesTheCoefficientsAsAReferencedModel() {
        Recipe r = RecipeParser.parse("""
                merge_method: dam
                base_model: a
                models: [{model: a}, {model: b}]
                parameters: {coefficients: fitted}
                """, dir, "dam.yml");
        assertTrue(RecipeChecker.check(r).ok(), RecipeChecker.check(r).problems().toString());
        assertEquals(List.of("a", "b", "fitted"), RecipeModels.referenced(r));
        assertTrue(RecipeYaml.write(r, 0L).contains("coefficients: fitted"));
    }

    @Test
    void recipeRulesOfDam() {
        var problems = check("models: [{model: a}, {model: b}]\n");
        assertTrue(problems.contains("parameters.coefficients: required by dam"), problems.toString());
        problems = check("models: [{model: a}, {model: b}]\nparameters: {coefficients: 0.5}\n");
        assertTrue(problems.stream().anyMatch(p -> p.contains("must be a model reference")), problems.toString());
        problems = check("models: [{model: a}, {model: b}]\nbase_model: c\nparameters: {coefficients: f}\n");
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("base_model: for dam the base model must be one of the models")),
                problems.toString());
        problems = check("models: [{model: a, parameters: {weight: 1.0}}, {model: b}]\nparameters: {coefficients: f}\n");
        assertTrue(problems.stream().anyMatch(p -> p.contains("unknown parameter for dam")), problems.toString());
        problems = check("slices: [{sources: [{model: a, layer_range: [0, 2]}, {model: b, layer_range: [0, 2]}]}]\n"
                + "parameters: {coefficients: f}\n");
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("slices: dam merges whole models")), problems.toString());
        problems = check("models: [{model: a}, {model: b}]\nparameters: {coefficients: [{filter: mlp, value: f}]}\n");
        assertTrue(problems.stream().anyMatch(p -> p.contains("a model reference must be a single value")), problems.toString());
        problems = check("models: [{model: a}]\nparameters: {coefficients: f}\n");
        assertTrue(problems.stream().anyMatch(p -> p.contains("at least 2 models")), problems.toString());
    }

    private List<String> check(String body) {
        return RecipeChecker.check(RecipeParser.parse("merge_method: dam\n" + body, dir, "dam.yml")).problems();
    }

    @Test
    void mergesWholeModelsThroughTheEngine() throws IOException {
        var spec = new SampleModel.Spec("llama", 2, 64, 96, 50, 5, DType.F32);
        SampleModel.write(dir.resolve("a"), spec, null, 0);
        SampleModel.write(dir.resolve("b"), spec, dir.resolve("a"), 0.05);
        Random r = new Random(11);
        Map<String, float[][]> coef = new LinkedHashMap<>();
        try (var a = SafetensorsModel.open(dir.resolve("a"))) {
            for (String name : a.names()) {
                long[] shape = a.info(name).shape();
                int cols = (int) shape[shape.length - 1];
                coef.put(name, new float[][]{random(r, cols), random(r, cols)});
            }
        }
        Files.createDirectories(dir.resolve("fitted"));
        new Coefficients(coef).write(dir.resolve("fitted"));
        Recipe recipe = RecipeParser.parse("""
                merge_method: dam
                base_model: b
                models: [{model: a}, {model: b}]
                parameters: {coefficients: fitted}
                """, dir, "dam.yml");
        var one = MergeEngine.run(new MergeRequest(recipe, ModelResolver.local(), dir.resolve("out1"),
                MergeOptions.defaults().withThreads(1), ProgressListener.NONE).withPartElements(TensorContext.CHUNK));
        MergeEngine.run(new MergeRequest(recipe, ModelResolver.local(), dir.resolve("out2"),
                MergeOptions.defaults().withThreads(2), ProgressListener.NONE));
        assertEquals(List.of("b", "a", "fitted"), one.inputs());
        assertArrayEquals(Files.readAllBytes(dir.resolve("out1/model-00001-of-00001.safetensors")),
                Files.readAllBytes(dir.resolve("out2/model-00001-of-00001.safetensors")));
        try (var a = SafetensorsModel.open(dir.resolve("a")); var b = SafetensorsModel.open(dir.resolve("b"));
             var out = SafetensorsModel.open(dir.resolve("out1"))) {
            assertEquals(a.names().size(), out.names().size());
            for (String name : a.names()) {
                float[] x = floats(a.tensor(name)), y = floats(b.tensor(name)), got = floats(out.tensor(name));
                float[][] c = coef.get(name);
                int cols = c[0].length;
                for (int i = 0; i < got.length; i++) {
                    // the same F32 operations in recipe order: bit for bit
                    float want = 0f + c[0][i % cols] * x[i];
                    want = want + c[1][i % cols] * y[i];
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), name + " element " + i);
                }
            }
        }
    }

    @Test
    void coefficientProblemsAreReportedTogetherBeforeAnythingIsMerged() throws IOException {
        var spec = new SampleModel.Spec("llama", 1, 16, 32, 20, 5, DType.F32);
        SampleModel.write(dir.resolve("a"), spec, null, 0);
        SampleModel.write(dir.resolve("b"), spec, dir.resolve("a"), 0.05);
        Map<String, float[][]> coef = new LinkedHashMap<>();
        try (var a = SafetensorsModel.open(dir.resolve("a"))) {
            for (String name : a.names()) {
                long[] shape = a.info(name).shape();
                int cols = (int) shape[shape.length - 1];
                if (name.contains("down_proj")) continue;                                   // missing
                coef.put(name, name.contains("up_proj") ? new float[3][cols] : new float[2][cols]); // wrong shape
            }
        }
        Files.createDirectories(dir.resolve("partial"));
        new Coefficients(coef).write(dir.resolve("partial"));
        Recipe recipe = RecipeParser.parse("""
                merge_method: dam
                models: [{model: a}, {model: b}]
                parameters: {coefficients: partial}
                """, dir, "dam.yml");
        var e = assertThrows(RecipeException.class, () -> MergeEngine.resolve(recipe, ModelResolver.local()));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.down_proj.weight: no coefficients"), e.getMessage());
        assertTrue(e.getMessage().contains("model.layers.0.mlp.up_proj.weight: coefficients in partial are F32[3, 16]"), e.getMessage());
        var run = assertThrows(RecipeException.class, () ->
                MergeEngine.run(MergeRequest.of(recipe, ModelResolver.local(), dir.resolve("never"))));
        assertTrue(run.getMessage().contains("down_proj"), run.getMessage());
        assertFalse(Files.exists(dir.resolve("never")));
    }

    static float[] floats(Tensor t) {
        float[] out = new float[(int) t.elementCount()];
        Kernels.get().load(t.data(), t.dtype(), 0, out, out.length);
        return out;
    }
}
