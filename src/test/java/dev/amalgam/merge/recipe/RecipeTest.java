package dev.amalgam.merge.recipe;

import dev.amalgam.TestResources;
import dev.amalgam.merge.RecipeChecker;
import dev.amalgam.merge.method.MergeMethods;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class RecipeTest {
    /** Our own recipe fixtures (src/test/resources/recipes): every method, gradients, filters, slices, tokenizers. */
    static List<Path> fixtures() throws IOException {
        try (Stream<Path> s = Files.list(TestResources.path("recipes"))) {
            return s.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
        }
    }

    private static Recipe parse(String yaml) {
        return RecipeParser.parse(yaml, Path.of("."), "test.yml");
    }

    private static List<String> problems(String yaml) {
        return RecipeChecker.check(parse(yaml)).problems();
    }

    @Test
    void everyRecipeFixturePassesTheCheck() throws IOException {
        List<Path> files = fixtures();
        assertFalse(files.isEmpty(), "no recipe fixtures found");
        for (Path f : files) {
            var result = RecipeChecker.check(RecipeParser.parse(f));
            assertTrue(result.ok(), f.getFileName() + ": " + result.problems());
        }
    }

    /** The fixtures are the parser's coverage: a method or recipe feature without one is a gap in them. */
    @Test
    void fixturesCoverEveryMethodAndRecipeFeature() throws IOException {
        List<Recipe> recipes = new ArrayList<>();
        for (Path f : fixtures()) recipes.add(RecipeParser.parse(f));
        Set<String> methods = new TreeSet<>();
        recipes.forEach(r -> methods.add(r.mergeMethod()));
        Set<String> expected = new TreeSet<>();
        MergeMethods.all().forEach(m -> expected.add(m.name()));
        assertEquals(expected, methods, "one fixture per merge method");
        List<ParameterSetting> settings = new ArrayList<>();
        for (Recipe r : recipes) {
            settings.addAll(r.parameters().values());
            r.models().forEach(m -> settings.addAll(m.parameters().values()));
            r.slices().forEach(sl -> sl.sources().forEach(src -> settings.addAll(src.parameters().values())));
        }
        assertTrue(settings.stream().anyMatch(p -> p instanceof ParameterSetting.Gradient), "a gradient");
        assertTrue(settings.stream().anyMatch(p -> p instanceof ParameterSetting.Conditional), "a filter");
        assertTrue(recipes.stream().anyMatch(r -> r.slices().size() > 1), "a slice stack");
        assertTrue(recipes.stream().anyMatch(r -> !r.slices().isEmpty() && r.slices().getFirst().sources().size() > 1),
                "a slice merging two sources");
        assertTrue(recipes.stream().anyMatch(r -> r.tokenizerSource() != null), "tokenizer_source");
        assertTrue(recipes.stream().anyMatch(r -> r.tokenizer() != null && !r.tokenizer().tokens().isEmpty()), "a tokenizer block");
        assertTrue(recipes.stream().anyMatch(r -> r.chatTemplate() != null), "chat_template");
        assertTrue(recipes.stream().anyMatch(r -> r.randomSeed() != null), "random_seed");
    }

    @Test
    void parsesGradientsAndConditions() throws IOException {
        Recipe r = RecipeParser.parse(TestResources.path("recipes/ties-gradients-filters.yml"));
        assertEquals("ties", r.mergeMethod());
        assertEquals("org/base", r.baseModel());
        var density = r.models().get(0).parameters().get("density");
        assertEquals(1.0, (Double) density.evaluate("x", 0), 1e-12);
        assertEquals(0.6, (Double) density.evaluate("x", 0.5), 1e-12);
        assertEquals(0.4, (Double) density.evaluate("x", 0.75), 1e-12, "halfway between 0.6 and 0.2");
        var weight = r.models().get(2).parameters().get("weight");
        assertEquals(0.6, weight.evaluate("model.layers.3.mlp.up_proj.weight", 0));
        assertEquals(0.2, weight.evaluate("model.layers.3.self_attn.q_proj.weight", 0));
        assertEquals(0.0, weight.evaluate("model.norm.weight", 0));
    }

    @Test
    void parsesSlicesAndTheTokenizerBlock() throws IOException {
        Recipe stack = RecipeParser.parse(TestResources.path("recipes/passthrough-frankenmerge.yml"));
        assertEquals(List.of(24, 16), stack.slices().stream().map(Recipe.OutputSlice::layerCount).toList());
        assertEquals(16, stack.slices().get(1).sources().getFirst().start());
        Recipe tok = RecipeParser.parse(TestResources.path("recipes/tokenizer-block.yml"));
        assertEquals("base", tok.effectiveTokenizer().source());
        assertEquals(64, tok.tokenizer().padToMultipleOf());
        assertEquals(3, tok.tokenizer().tokens().size());
    }

    @Test
    void conditionWithoutCatchAllYieldsNothing() {
        Recipe r = parse("models: [{model: a, parameters: {weight: [{filter: mlp, value: 2}]}}]\nmerge_method: linear\n");
        assertNull(r.models().get(0).parameters().get("weight").evaluate("attn", 0));
    }

    @Test
    void rejectsUnknownKeysByName() {
        var e = assertThrows(RecipeException.class, () -> parse("models: [{model: a, parametrs: {weight: 1}}]\nmerge_method: linear\n"));
        assertTrue(e.getMessage().contains("models[0].parametrs: unknown key"), e.getMessage());
        var top = assertThrows(RecipeException.class, () -> parse("models: [{model: a}]\nmerge_methd: linear\n"));
        assertTrue(top.getMessage().contains("merge_methd: unknown key"), top.getMessage());
    }

    @Test
    void rejectsDuplicateKeysAndBadStructure() {
        assertThrows(RecipeException.class, () -> parse("merge_method: linear\nmerge_method: ties\nmodels: [{model: a}]\n"));
        var both = assertThrows(RecipeException.class, () -> parse("merge_method: linear\nmodels: [{model: a}]\n"
                + "slices: [{sources: [{model: a, layer_range: [0, 1]}]}]\n"));
        assertTrue(both.getMessage().contains("exactly one of"));
        var range = assertThrows(RecipeException.class, () -> parse("merge_method: passthrough\n"
                + "slices: [{sources: [{model: a, layer_range: [4, 1]}]}]\n"));
        assertTrue(range.getMessage().contains("layer_range"), range.getMessage());
    }

    @Test
    void rejectsUnknownMethodAndParameters() {
        assertTrue(problems("models: [{model: a, parameters: {weight: 1}}]\nmerge_method: lineer\n").getFirst()
                .contains("unknown method \"lineer\""));
        assertTrue(problems("models: [{model: a, parameters: {weight: 1, densty: 0.5}}]\nmerge_method: linear\n").getFirst()
                .contains("models[0].parameters.densty: unknown parameter for linear"));
        assertTrue(problems("models: [{model: a, parameters: {weight: 1, normalize: true}}]\nmerge_method: linear\n").getFirst()
                .contains("method-wide parameter"));
        assertTrue(problems("models: [{model: a, parameters: {weight: yes}}]\nmerge_method: linear\n").getFirst()
                .contains("must be a number"));
        assertTrue(problems("models: [{model: a, parameters: {weight: 1}}]\nmerge_method: linear\nparameters: {normalize: 3}\n")
                .getFirst().contains("must be true or false"));
    }

    @Test
    void requiresMethodSpecificInputs() {
        assertTrue(problems("models: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: 1}}]\n"
                + "merge_method: ties\n").stream().anyMatch(p -> p.contains("needs a base_model")));
        assertTrue(problems("models: [{model: a}]\nmerge_method: linear\n").stream()
                .anyMatch(p -> p.contains("'weight' is required")));
        assertTrue(problems("models: [{model: a}, {model: b}, {model: c}]\nbase_model: a\nmerge_method: slerp\nparameters: {t: 0.5}\n")
                .stream().anyMatch(p -> p.contains("exactly two")));
        assertTrue(problems("models: [{model: a}, {model: b}]\nbase_model: a\nmerge_method: slerp\n")
                .stream().anyMatch(p -> p.contains("parameters.t: required")));
        assertTrue(problems("slices: [{sources: [{model: a, layer_range: [0, 2]}, {model: b, layer_range: [0, 3]}]}]\n"
                + "base_model: a\nmerge_method: slerp\nparameters: {t: 0.5}\n").stream().anyMatch(p -> p.contains("same count")));
    }

    @Test
    void dtypeNamesAsMergekitWritesThem() {
        // mergekit's dtype_from_name strips a "torch." prefix
        assertTrue(RecipeChecker.check(parse("models: [{model: a, parameters: {weight: 1}}]\nmerge_method: linear\n"
                + "dtype: torch.bfloat16\nout_dtype: torch.float32\n")).ok());
        assertTrue(problems("models: [{model: a, parameters: {weight: 1}}]\nmerge_method: linear\ndtype: torch.int8\n")
                .stream().anyMatch(p -> p.contains("unsupported dtype")));
    }

    @Test
    void ramNeedsABaseModelAndTakesNoWeights() {
        assertTrue(RecipeChecker.check(parse("models: [{model: a}, {model: b}]\nbase_model: a\nmerge_method: ram\n")).ok());
        assertTrue(problems("models: [{model: a}, {model: b}]\nmerge_method: ram\n").stream()
                .anyMatch(p -> p.contains("base_model")));
        assertTrue(problems("models: [{model: a, parameters: {weight: 1}}, {model: b}]\nbase_model: a\nmerge_method: ramplus_tl\n")
                .stream().anyMatch(p -> p.contains("weight")));
    }
}
