package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.TestResources;
import dev.amalgam.safetensors.SafetensorsModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** End to end through the CLI: sample models, merges, outputs, errors. */
class MergeCliTest {
    @TempDir
    static Path dir;

    record Run(int code, String out, String err) {
    }

    static Run amalgam(String... args) {
        var cl = Amalgam.newCommandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void models() {
        String[] shape = {"--arch", "llama", "--layers", "3", "--hidden", "32", "--intermediate", "48", "--vocab", "64"};
        assertEquals(0, amalgam(concat(new String[]{"sample-model", dir.resolve("base").toString(), "--seed", "1"}, shape)).code());
        for (int i = 1; i <= 2; i++) {
            Run r = amalgam(concat(new String[]{"sample-model", dir.resolve("ft" + i).toString(), "--seed", "" + (10 + i),
                    "--like", dir.resolve("base").toString(), "--delta-scale", "0.01"}, shape));
            assertEquals(0, r.code(), r.err());
        }
    }

    static String[] concat(String[] a, String[] b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    static Path recipe(String name, String yaml) throws IOException {
        Path p = dir.resolve(name + ".yml");
        Files.writeString(p, yaml);
        return p;
    }

    static byte[] bytes(Path dir, String file) throws IOException {
        return Files.readAllBytes(dir.resolve(file));
    }

    @Test
    void tiesMergeIsIdenticalForAnyThreadCountAndWritesACompleteFolder() throws IOException {
        Path r = recipe("ties", """
                models:
                  - model: ft1
                    parameters: {weight: 1.0, density: [1, 0.5]}
                  - model: ft2
                    parameters: {weight: 0.5, density: 0.4}
                merge_method: ties
                base_model: base
                parameters: {normalize: true}
                dtype: bfloat16
                """);
        Run one = amalgam("merge", r.toString(), "--out", dir.resolve("t1").toString(), "--threads", "1");
        assertEquals(0, one.code(), one.err());
        Run two = amalgam("merge", r.toString(), "--out", dir.resolve("t2").toString(), "--threads", "2", "--shard-size", "20KB");
        assertEquals(0, two.code(), two.err());
        Path t1 = dir.resolve("t1"), t2 = dir.resolve("t2");
        try (var a = SafetensorsModel.open(t1); var b = SafetensorsModel.open(t2)) {
            assertEquals(a.names(), b.names());
            assertTrue(b.files().size() > 1, "small shard size gives several shards");
            for (String n : a.names()) assertEquals(-1, a.tensor(n).data().mismatch(b.tensor(n).data()), n);
            assertEquals(3 * 9 + 3, a.names().size());
        }
        var config = new ObjectMapper().readTree(t1.resolve("config.json").toFile());
        assertEquals(3, config.get("num_hidden_layers").asInt());
        assertEquals("bfloat16", config.get("torch_dtype").asText());
        assertTrue(Files.exists(t1.resolve("tokenizer_config.json")));
        String card = Files.readString(t1.resolve("README.md"));
        assertTrue(card.startsWith("---\nbase_model:\n- base\n- ft1\n- ft2\nbase_model_relation: merge\n"), card);
        assertTrue(card.contains("library_name: transformers"));
        String normalised = Files.readString(t1.resolve("amalgam-recipe.yml"));
        assertTrue(normalised.contains("random_seed: 0"), normalised);
        assertTrue(one.out().contains("merged 30 tensors"), one.out());
        // a rerun gives the same bytes
        assertEquals(0, amalgam("merge", r.toString(), "--out", dir.resolve("t3").toString()).code());
        assertArrayEquals(bytes(t1, "model-00001-of-00001.safetensors"), bytes(dir.resolve("t3"), "model-00001-of-00001.safetensors"));
    }

    @Test
    void passthroughFrankenmergeUpdatesTheLayerCount() throws IOException {
        Path r = recipe("frank", """
                slices:
                  - sources: [{model: ft1, layer_range: [0, 2]}]
                  - sources: [{model: base, layer_range: [1, 3]}]
                merge_method: passthrough
                """);
        Run run = amalgam("merge", r.toString(), "--out", dir.resolve("frank").toString());
        assertEquals(0, run.code(), run.err());
        var config = new ObjectMapper().readTree(dir.resolve("frank/config.json").toFile());
        assertEquals(4, config.get("num_hidden_layers").asInt());
        try (var out = SafetensorsModel.open(dir.resolve("frank")); var base = SafetensorsModel.open(dir.resolve("base"))) {
            assertTrue(out.has("model.layers.3.mlp.up_proj.weight"));
            assertEquals(-1, out.tensor("model.layers.3.mlp.up_proj.weight").data()
                    .mismatch(base.tensor("model.layers.2.mlp.up_proj.weight").data()), "layer 3 is base's layer 2, bytes unchanged");
        }
    }

    @Test
    void gradientSlerpResolvesAndMerges() throws IOException {
        Path r = recipe("slerp", """
                slices:
                  - sources:
                      - {model: base, layer_range: [0, 3]}
                      - {model: ft1, layer_range: [0, 3]}
                merge_method: slerp
                base_model: base
                parameters:
                  t:
                    - filter: self_attn
                      value: [0, 0.5, 1]
                    - value: 0.5
                dtype: float32
                """);
        Run check = amalgam("recipe", "check", r.toString(), "--resolve");
        assertEquals(0, check.code(), check.err());
        assertTrue(check.out().contains("architecture llama, 30 output tensors, 3 layers"), check.out());
        assertEquals(0, amalgam("merge", r.toString(), "--out", dir.resolve("slerp").toString()).code());
        try (var out = SafetensorsModel.open(dir.resolve("slerp")); var base = SafetensorsModel.open(dir.resolve("base"))) {
            assertEquals(dev.amalgam.safetensors.DType.F32, out.info("model.norm.weight").dtype());
            // t = 0 for layer 0's attention: exactly the base model (widened to F32)
            var o = out.tensor("model.layers.0.self_attn.q_proj.weight");
            var b = base.tensor("model.layers.0.self_attn.q_proj.weight");
            float[] ov = new float[16], bv = new float[16];
            dev.amalgam.merge.kernel.Kernels.get().load(o.data(), o.dtype(), 0, ov, 16);
            dev.amalgam.merge.kernel.Kernels.get().load(b.data(), b.dtype(), 0, bv, 16);
            assertArrayEquals(bv, ov);
        }
    }

    @Test
    void badInputFailsWithOneLineNamingTheProblemAndLeavesNoOutput() throws IOException {
        Run missing = amalgam("merge", recipe("missing", """
                models: [{model: nowhere, parameters: {weight: 1}}, {model: base, parameters: {weight: 1}}]
                merge_method: linear
                """).toString(), "--out", dir.resolve("never").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nowhere"), missing.err());
        assertFalse(Files.exists(dir.resolve("never")));

        Run unknown = amalgam("recipe", "check", recipe("unknown", """
                models: [{model: base, parameters: {weight: 1, denstiy: 0.5}}]
                merge_method: linear
                """).toString());
        assertEquals(1, unknown.code());
        assertTrue(unknown.err().contains("denstiy"), unknown.err());
        assertFalse(unknown.err().contains("\tat "), "no stack trace");

        String[] small = {"--arch", "llama", "--layers", "3", "--hidden", "16", "--intermediate", "48", "--vocab", "64"};
        assertEquals(0, amalgam(concat(new String[]{"sample-model", dir.resolve("narrow").toString()}, small)).code());
        Run shape = amalgam("merge", recipe("shape", """
                models: [{model: narrow, parameters: {weight: 1}}, {model: base, parameters: {weight: 1}}]
                merge_method: linear
                """).toString(), "--out", dir.resolve("never2").toString());
        assertEquals(1, shape.code());
        assertTrue(shape.err().contains("model.embed_tokens.weight") && shape.err().contains("narrow"), shape.err());
        assertFalse(Files.exists(dir.resolve("never2")));
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".partial-")), "staging folders cleaned up");
        }
    }

    /** A variant --like BASE takes BASE's shape: no shape argument repeated (docs/recipes.md's DAM demo). */
    @Test
    void sampleModelLikeTakesTheShapeFromTheBase() throws IOException {
        Path variant = dir.resolve("like-variant");
        Run r = amalgam("sample-model", variant.toString(), "--like", dir.resolve("base").toString(), "--seed", "9",
                "--delta-scale", "0.05");
        assertEquals(0, r.code(), r.err());
        var json = new ObjectMapper();
        var base = json.readTree(dir.resolve("base/config.json").toFile());
        var made = json.readTree(variant.resolve("config.json").toFile());
        for (String key : new String[]{"model_type", "num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size", "torch_dtype"}) {
            assertEquals(base.get(key), made.get(key), key);
        }
        Run wrong = amalgam("sample-model", dir.resolve("like-wrong").toString(), "--like", dir.resolve("base").toString(),
                "--hidden", "16");
        assertEquals(1, wrong.code());
        assertTrue(wrong.err().contains("has no tensor") && wrong.err().contains("same shape"), wrong.err());
        Run none = amalgam("sample-model", dir.resolve("like-none").toString(), "--like", dir.resolve("nowhere").toString());
        assertEquals(1, none.code());
        assertTrue(none.err().contains("no config.json"), none.err());
    }

    @Test
    void everyRecipeFixtureChecksFromTheCli() throws IOException {
        try (Stream<Path> s = Files.list(TestResources.path("recipes"))) {
            for (Path p : s.sorted().toList()) {
                Run r = amalgam("recipe", "check", p.toString());
                assertEquals(0, r.code(), p + ": " + r.err());
            }
        }
    }

    @Test
    void tokenizerComesFromTokenizerSourceEvenWithoutWeights() throws IOException {
        Path tok = dir.resolve("tok");
        Files.createDirectories(tok);
        String tokenizer = Files.readString(dir.resolve("base/tokenizer.json")).replace("\"t7\"", "\"seven\"");
        Files.writeString(tok.resolve("tokenizer.json"), tokenizer);
        Path r = recipe("tok", """
                models: [{model: base, parameters: {weight: 1}}, {model: ft1, parameters: {weight: 1}}]
                merge_method: linear
                tokenizer_source: tok
                """);
        Run run = amalgam("merge", r.toString(), "--out", dir.resolve("tokout").toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(Files.readString(dir.resolve("tokout/tokenizer.json")).contains("\"seven\""));
        assertFalse(Files.readString(dir.resolve("tokout/README.md")).contains("- tok\n"), "not a weight input");
    }

    @Test
    void notYetImplementedMethodIsRefusedByMerge() throws IOException {
        Run run = amalgam("merge", recipe("ram", """
                models: [{model: base}, {model: ft1}]
                merge_method: ram
                base_model: base
                """).toString(), "--out", dir.resolve("ram").toString());
        assertEquals(1, run.code());
        assertTrue(run.err().contains("ram is not implemented"), run.err());
        // arcee_fusion, once in that list, now merges
        Run fusion = amalgam("merge", recipe("fusion", """
                models: [{model: base}, {model: ft1}]
                merge_method: arcee_fusion
                base_model: base
                """).toString(), "--out", dir.resolve("fusion").toString());
        assertEquals(0, fusion.code(), fusion.err());
    }

    @Test
    void differingVocabulariesMergeOverTheCommonRows() throws IOException {
        String[] wide = {"--arch", "llama", "--layers", "3", "--hidden", "32", "--intermediate", "48", "--vocab", "72"};
        assertEquals(0, amalgam(concat(new String[]{"sample-model", dir.resolve("bigvocab").toString(), "--seed", "5"}, wide)).code());
        Run run = amalgam("merge", recipe("vocab", """
                models: [{model: base, parameters: {weight: 1}}, {model: bigvocab, parameters: {weight: 1}}]
                merge_method: linear
                """).toString(), "--out", dir.resolve("vocabout").toString());
        assertEquals(0, run.code(), run.err());
        try (var out = SafetensorsModel.open(dir.resolve("vocabout"))) {
            assertArrayEquals(new long[]{64, 32}, out.info("model.embed_tokens.weight").shape());
            assertArrayEquals(new long[]{64, 32}, out.info("lm_head.weight").shape());
        }
        assertEquals(64, new ObjectMapper().readTree(dir.resolve("vocabout/config.json").toFile()).get("vocab_size").asInt());

        Run tiesBigBase = amalgam("merge", recipe("vocabties", """
                models: [{model: base, parameters: {weight: 1, density: 0.5}}]
                merge_method: ties
                base_model: bigvocab
                """).toString(), "--out", dir.resolve("never3").toString());
        assertEquals(1, tiesBigBase.code());
        assertTrue(tiesBigBase.err().contains("base model bigvocab has 72 rows"), tiesBigBase.err());
    }
}
