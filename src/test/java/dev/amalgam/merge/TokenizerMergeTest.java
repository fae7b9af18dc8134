package dev.amalgam.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.merge.recipe.RecipeYaml;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import dev.amalgam.safetensors.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tokenizer sources and embedding layout, against rows worked out by hand from mergekit's rules.
 * Model a has tokens {@code <unk> <s> </s> t3 t4 t5 t6 t7}; model b the same except that ids 5
 * and 7 are {@code x5} and {@code y7}. Both are F32 with 8 embedding rows of 8 values.
 */
class TokenizerMergeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String EMBED = "model.embed_tokens.weight", HEAD = "lm_head.weight";
    static final int H = 8;

    @TempDir
    Path dir;
    float[][] a, b;

    @BeforeEach
    void models() throws IOException {
        var spec = new SampleModel.Spec("llama", 1, H, 16, 8, 1, DType.F32);
        SampleModel.write(dir.resolve("a"), spec, null, 0);
        SampleModel.write(dir.resolve("b"), new SampleModel.Spec("llama", 1, H, 16, 8, 2, DType.F32), null, 0);
        ObjectNode tok = (ObjectNode) JSON.readTree(dir.resolve("b/tokenizer.json").toFile());
        ObjectNode vocab = (ObjectNode) tok.get("model").get("vocab");
        vocab.remove("t5");
        vocab.remove("t7");
        vocab.put("x5", 5);
        vocab.put("y7", 7);
        JSON.writeValue(dir.resolve("b/tokenizer.json").toFile(), tok);
        a = rows(dir.resolve("a"), EMBED);
        b = rows(dir.resolve("b"), EMBED);
    }

    static float[][] rows(Path model, String tensor) throws IOException {
        try (var m = SafetensorsModel.open(model)) {
            Tensor t = m.tensor(tensor);
            int rows = (int) t.info().dim(0), h = (int) t.info().dim(1);
            float[][] out = new float[rows][h];
            for (int r = 0; r < rows; r++) Kernels.scalar().load(t.data(), t.dtype(), (long) r * h, out[r], h);
            return out;
        }
    }

    Path merge(String name, String tokenizerYaml) throws IOException {
        Recipe r = RecipeParser.parse("""
                models: [{model: a, parameters: {weight: 0.5}}, {model: b, parameters: {weight: 0.5}}]
                merge_method: linear
                base_model: a
                %s
                """.formatted(tokenizerYaml), dir, name + ".yml");
        return MergeEngine.run(MergeRequest.of(r, ModelResolver.local(), dir.resolve(name))).output();
    }

    static float avg(float x, float y) {
        return (0.5f * x + 0.5f * y) / 1f;
    }

    static void assertRow(float[] want, float[] got, String what) {
        assertArrayEquals(want, got, what);
    }

    static float[] mean(float[] x, float[] y) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = avg(x[i], y[i]);
        return out;
    }

    static List<String> tokens(Path model) throws IOException {
        JsonNode t = JSON.readTree(model.resolve("tokenizer.json").toFile());
        List<String> out = new ArrayList<>();
        t.get("model").get("vocab").properties().forEach(e -> {
            while (out.size() <= e.getValue().intValue()) out.add(null);
            out.set(e.getValue().intValue(), e.getKey());
        });
        for (JsonNode x : t.get("added_tokens")) {
            while (out.size() <= x.get("id").intValue()) out.add(null);
            out.set(x.get("id").intValue(), x.get("content").textValue());
        }
        return out;
    }

    @Test
    void unionAppendsTheOtherModelsTokensAndFillsMissingRowsFromTheModelThatHasThem() throws IOException {
        Path out = merge("union", "tokenizer_source: union");
        assertEquals(List.of("<unk>", "<s>", "</s>", "t3", "t4", "t5", "t6", "t7", "x5", "y7"), tokens(out));
        float[][] m = rows(out, EMBED);
        assertEquals(10, m.length);
        for (int i : new int[]{0, 1, 2, 3, 4, 6}) assertRow(mean(a[i], b[i]), m[i], "shared token " + i);
        // t5, t7: only a has them, so b's laid-out rows are a's; x5, y7: only b, so a gets b's
        assertRow(mean(a[5], a[5]), m[5], "t5");
        assertRow(mean(a[7], a[7]), m[7], "t7");
        assertRow(mean(b[5], b[5]), m[8], "x5");
        assertRow(mean(b[7], b[7]), m[9], "y7");
        assertEquals(10, rows(out, HEAD).length);
        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals(10, config.get("vocab_size").intValue());
        JsonNode added = JSON.readTree(out.resolve("tokenizer.json").toFile()).get("added_tokens");
        assertEquals("x5", added.get(3).get("content").textValue());
        assertFalse(added.get(3).get("special").booleanValue());
        // and the result is the same on every run
        Path again = merge("union2", "tokenizer_source: union");
        assertArrayEquals(Files.readAllBytes(out.resolve("model-00001-of-00001.safetensors")),
                Files.readAllBytes(again.resolve("model-00001-of-00001.safetensors")));
        assertEquals(Files.readString(out.resolve("tokenizer.json")), Files.readString(again.resolve("tokenizer.json")));
    }

    @Test
    void baseVocabularyMapsTheOtherModelsRowsByTokenAndPadsWithTheMeanRow() throws IOException {
        Path out = merge("base", "tokenizer: {source: base, pad_to_multiple_of: 16}");
        assertEquals(List.of("<unk>", "<s>", "</s>", "t3", "t4", "t5", "t6", "t7"), tokens(out));
        float[][] m = rows(out, EMBED);
        assertEquals(16, m.length);
        assertRow(mean(a[5], a[5]), m[5], "t5 is not in b: b's row is the base's");
        assertRow(mean(a[3], b[3]), m[3], "t3");
        // padding: each model's laid-out rows averaged, then merged
        float[] pa = new float[H], pb = new float[H];
        for (int c = 0; c < H; c++) {
            double sa = 0, sb = 0;
            for (int i = 0; i < 8; i++) {
                sa += a[i][c];
                sb += (i == 5 || i == 7) ? a[i][c] : b[i][c];
            }
            pa[c] = (float) (sa / 8);
            pb[c] = (float) (sb / 8);
        }
        for (int i = 8; i < 16; i++) assertRow(mean(pa, pb), m[i], "padding row " + i);
        assertEquals(16, JSON.readTree(out.resolve("config.json").toFile()).get("vocab_size").intValue());
    }

    @Test
    void aModelsTokenizerDefinesTheVocabulary() throws IOException {
        Path out = merge("model", "tokenizer_source: model:b");
        assertEquals(List.of("<unk>", "<s>", "</s>", "t3", "t4", "x5", "t6", "y7"), tokens(out));
        float[][] m = rows(out, EMBED);
        assertRow(mean(b[5], b[5]), m[5], "x5 from b");
        assertRow(mean(a[4], b[4]), m[4], "t4");
    }

    @Test
    void tokenOverridesAddTokensForceRowsAndCopyOtherTokens() throws IOException {
        Path out = merge("tokens", """
                tokenizer:
                  source: base
                  tokens:
                    "<s>": {source: {kind: zero}, force: true}
                    "<new>": {source: {kind: model_token, model: a, token: t3}}
                    t5: {source: a}
                """);
        List<String> t = tokens(out);
        assertEquals("<new>", t.get(8));
        float[][] m = rows(out, EMBED);
        assertRow(new float[H], m[1], "forced zero");
        assertRow(mean(a[3], a[3]), m[8], "copied from a's t3");
        assertRow(mean(a[5], a[5]), m[5], "t5 from a for b");
    }

    @Test
    void identicalVocabulariesLeaveTheWeightsAsWithoutATokenizerSetting() throws IOException {
        Files.copy(dir.resolve("a/tokenizer.json"), dir.resolve("b/tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path plain = merge("plain", "");
        Path base = merge("same", "tokenizer_source: base");
        assertArrayEquals(Files.readAllBytes(plain.resolve("model-00001-of-00001.safetensors")),
                Files.readAllBytes(base.resolve("model-00001-of-00001.safetensors")));
    }

    @Test
    void tokensWithoutAnEmbeddingRowAreStrippedFromTheBaseTokenizer() throws IOException {
        ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("a/config.json").toFile());
        cfg.put("vocab_size", 6);
        JSON.writeValue(dir.resolve("a/config.json").toFile(), cfg);
        ObjectNode tok = (ObjectNode) JSON.readTree(dir.resolve("a/tokenizer.json").toFile());
        ((com.fasterxml.jackson.databind.node.ArrayNode) tok.get("model").get("merges")).add("t6 t7").add("t3 t4");
        JSON.writeValue(dir.resolve("a/tokenizer.json").toFile(), tok);
        Path out = merge("stripped", "tokenizer_source: base");
        assertEquals(List.of("<unk>", "<s>", "</s>", "t3", "t4", "t5"), tokens(out));
        assertEquals(6, rows(out, EMBED).length);
        JsonNode merges = JSON.readTree(out.resolve("tokenizer.json").toFile()).get("model").get("merges");
        assertEquals(1, merges.size());
        assertEquals("t3 t4", merges.get(0).textValue());
    }

    @Test
    void problemsAreNamedNotGuessed() throws IOException {
        Files.delete(dir.resolve("b/tokenizer.json"));
        var e = assertThrows(RecipeException.class, () -> merge("missing", "tokenizer_source: union"));
        assertTrue(e.getMessage().contains("model b") && e.getMessage().contains("tokenizer.json"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("missing")), "no half output");

        Files.writeString(dir.resolve("b/tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": [1]}}");
        e = assertThrows(RecipeException.class, () -> merge("badvocab", "tokenizer_source: union"));
        assertTrue(e.getMessage().contains("model.vocab"), e.getMessage());

        Files.writeString(dir.resolve("b/tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1, \"a\": 2}}}");
        e = assertThrows(RecipeException.class, () -> merge("dup", "tokenizer_source: union"));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());

        Files.writeString(dir.resolve("b/tokenizer.json"), "{\"model\": {\"type\": \"Mystery\"}}");
        e = assertThrows(RecipeException.class, () -> merge("type", "tokenizer_source: union"));
        assertTrue(e.getMessage().contains("Mystery"), e.getMessage());

        Files.copy(dir.resolve("a/tokenizer.json"), dir.resolve("b/tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        e = assertThrows(RecipeException.class, () -> merge("absent", """
                tokenizer: {source: base, tokens: {t9: {source: b}}}
                """));
        assertTrue(e.getMessage().contains("t9") && e.getMessage().contains("not in model b"), e.getMessage());
    }

    @Test
    void theTokenizerBlockIsValidatedWhenParsed() {
        String[][] cases = {
                {"tokenizer: {source: union, tokens: {x: {source: {kind: other}}}}", "must be model_token or zero"},
                {"tokenizer: {tokens: {x: {source: {kind: model_token, model: a, token: y, token_id: 3}}}}", "exactly one of"},
                {"tokenizer: {pad_to_multiple_of: 0}", "positive integer"},
                {"tokenizer: {tokens: {x: {force: true}}}", "missing 'source'"},
                {"tokenizer: {tokens: {x: {source: a, forse: true}}}", "unknown key"},
                {"tokenizer: {sauce: base}", "unknown key"},
                {"tokenizer: union", "must be a mapping"},
        };
        for (String[] c : cases) {
            var e = assertThrows(RecipeException.class, () -> RecipeParser.parse("""
                    models: [{model: a}]
                    merge_method: linear
                    %s
                    """.formatted(c[0]), dir, "t.yml"), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
        Recipe r = RecipeParser.parse("""
                models: [{model: a, parameters: {weight: 1}}]
                merge_method: linear
                tokenizer: {tokens: {x: {source: elsewhere}}}
                """, dir, "t.yml");
        assertEquals("union", r.effectiveTokenizer().source());
        var check = RecipeChecker.check(r);
        assertTrue(check.problems().toString().contains("elsewhere is not one of the merged models"), check.problems().toString());
        // the normalised recipe keeps the block
        assertTrue(RecipeYaml.write(r, 1L).contains("tokenizer:"), RecipeYaml.write(r, 1L));
    }
}
