package dev.amalgam.merge;

import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.merge.recipe.SourceModel;
import dev.amalgam.safetensors.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** mergekit's planning semantics: t per layer, lookup order, filters, pre/post tensors, slices. */
class MergePlanTest {
    @TempDir
    static Path dir;
    static Map<String, SourceModel> models;

    @BeforeAll
    static void models() throws IOException {
        var spec = new SampleModel.Spec("llama", 5, 16, 32, 40, 1, DType.BF16);
        SampleModel.write(dir.resolve("a"), spec, null, 0);
        SampleModel.write(dir.resolve("b"), spec, dir.resolve("a"), 0.01);
        SampleModel.write(dir.resolve("c"), spec, dir.resolve("a"), 0.01);
        models = Map.of("a", SourceModel.open("a", dir.resolve("a")), "b", SourceModel.open("b", dir.resolve("b")),
                "c", SourceModel.open("c", dir.resolve("c")));
    }

    @AfterAll
    static void close() {
        models.values().forEach(SourceModel::close);
    }

    static MergePlan plan(String yaml) {
        return MergePlan.build(RecipeParser.parse(yaml, dir, "test.yml"), models);
    }

    static MergePlan.Planned tensor(MergePlan p, String name) {
        return p.tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
    }

    static double param(MergePlan.Planned t, String model, String name) {
        return ((Number) t.inputs().stream().filter(i -> i.model().equals(model)).findFirst().orElseThrow()
                .params().get(name)).doubleValue();
    }

    @Test
    void gradientsRunAcrossTheLayersOfASliceAndNonLayerTensorsUseTZero() {
        MergePlan p = plan("""
                models:
                  - model: b
                    parameters: {weight: [0, 1], density: 0.5}
                merge_method: ties
                base_model: a
                """);
        assertEquals(5, p.outputLayers());
        for (int i = 0; i < 5; i++) {
            assertEquals(i / 4.0, param(tensor(p, "model.layers." + i + ".mlp.up_proj.weight"), "b", "weight"), 1e-12);
        }
        assertEquals(0.0, param(tensor(p, "model.embed_tokens.weight"), "b", "weight"));
        assertEquals(0.0, param(tensor(p, "lm_head.weight"), "b", "weight"));
        assertTrue(tensor(p, "model.norm.weight").inputs().getFirst().isBase(), "base added as a source, listed first");
        assertEquals("model.embed_tokens.weight", p.tensors().getFirst().name(), "pre weights first");
        assertEquals("lm_head.weight", p.tensors().getLast().name(), "post weights last");
    }

    @Test
    void lookupOrderIsSourceThenSliceThenTopLevelThenDefault() {
        MergePlan p = plan("""
                slices:
                  - sources:
                      - {model: a, layer_range: [0, 2]}
                      - {model: b, layer_range: [0, 2], parameters: {weight: [{filter: mlp, value: 0.25}]}}
                      - {model: c, layer_range: [0, 2]}
                    parameters: {weight: 0.5}
                merge_method: task_arithmetic
                base_model: a
                parameters: {weight: 0.75, lambda: 2}
                """);
        var mlp = tensor(p, "model.layers.1.mlp.down_proj.weight");
        assertEquals(0.25, param(mlp, "b", "weight"), "source-level filter matched");
        assertEquals(0.5, param(mlp, "c", "weight"), "slice level");
        var attn = tensor(p, "model.layers.1.self_attn.q_proj.weight");
        assertEquals(0.5, param(attn, "b", "weight"), "no filter matched: falls through to the slice");
        assertEquals(2.0, ((Number) attn.globals().get("lambda")).doubleValue(), "top level");
        assertEquals(1.0, param(attn, "b", "density"), "method default");
        assertEquals(false, attn.globals().get("normalize"), "task_arithmetic default");
    }

    @Test
    void slicesRenumberLayersAndMapSourceLayers() {
        MergePlan p = plan("""
                slices:
                  - sources: [{model: a, layer_range: [0, 3]}]
                  - sources: [{model: b, layer_range: [1, 5]}]
                merge_method: passthrough
                """);
        assertEquals(7, p.outputLayers());
        var t = tensor(p, "model.layers.6.self_attn.o_proj.weight");
        assertEquals("b", t.inputs().getFirst().model());
        assertEquals("model.layers.4.self_attn.o_proj.weight", t.inputs().getFirst().tensor());
        assertEquals("a", tensor(p, "model.embed_tokens.weight").inputs().getFirst().model(), "first slice's sources");
        assertEquals("b", tensor(p, "model.norm.weight").inputs().getFirst().model(), "last slice's sources");
    }

    @Test
    void missingRequiredParameterNamesTensorAndModel() {
        var e = assertThrows(RecipeException.class, () -> plan("""
                models:
                  - model: b
                    parameters: {weight: [{filter: mlp, value: 1}]}
                  - model: c
                    parameters: {weight: 1}
                merge_method: linear
                """));
        assertTrue(e.getMessage().contains("tensor model.layers.0.self_attn.q_proj.weight of model b: missing required parameter 'weight'"),
                e.getMessage());
        assertFalse(e.getMessage().contains("mlp.up_proj.weight of model b"), "the filter covers mlp tensors");
    }
}
