package dev.amalgam.merge;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class RecipeTest {
    /** Shared vectors live next to the project; never copied in. */
    static Path examples() {
        Path p = Path.of("..", "shared", "vectors", "mergekit-examples").toAbsolutePath().normalize();
        assertTrue(Files.isDirectory(p), "missing shared test vectors at " + p);
        return p;
    }

    private static Recipe parse(String yaml) {
        return RecipeParser.parse(yaml, Path.of("."), "test.yml");
    }

    private static List<String> problems(String yaml) {
        return RecipeChecker.check(parse(yaml)).problems();
    }

    @Test
    void everyMergekitExamplePassesTheCheck() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(examples())) {
            files = s.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no example recipes found");
        for (Path f : files) {
            var result = RecipeChecker.check(RecipeParser.parse(f));
            assertTrue(result.ok(), f.getFileName() + ": " + result.problems());
        }
    }

    @Test
    void parsesGradientsAndConditions() throws IOException {
        Recipe r = RecipeParser.parse(examples().resolve("ties.yml"));
        assertEquals("ties", r.mergeMethod());
        assertEquals("TheBloke/Llama-2-13B-fp16", r.baseModel());
        var density = r.models().get(0).parameters().get("density");
        assertEquals(1.0, (Double) density.evaluate("x", 0), 1e-12);
        assertEquals(0.7, (Double) density.evaluate("x", 0.5), 1e-12);
        assertEquals(0.4, (Double) density.evaluate("x", 0.75), 1e-12, "halfway between 0.7 and 0.1");
        var weight = r.models().get(2).parameters().get("weight");
        assertEquals(0.5, weight.evaluate("model.layers.3.mlp.up_proj.weight", 0));
        assertEquals(0.0, weight.evaluate("model.layers.3.self_attn.q_proj.weight", 0));
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
    void ramNeedsABaseModelAndTakesNoWeights() {
        assertTrue(RecipeChecker.check(parse("models: [{model: a}, {model: b}]\nbase_model: a\nmerge_method: ram\n")).ok());
        assertTrue(problems("models: [{model: a}, {model: b}]\nmerge_method: ram\n").stream()
                .anyMatch(p -> p.contains("base_model")));
        assertTrue(problems("models: [{model: a, parameters: {weight: 1}}, {model: b}]\nbase_model: a\nmerge_method: ramplus_tl\n")
                .stream().anyMatch(p -> p.contains("weight")));
    }
}
