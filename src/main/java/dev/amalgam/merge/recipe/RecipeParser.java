package dev.amalgam.merge.recipe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads mergekit's YAML recipe schema with a real YAML parser. Every key is known by name:
 * an unknown or misspelt key is an error naming its path (e.g. {@code models[1].parametrs}),
 * never silently skipped.
 */
public final class RecipeParser {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
    private static final Set<String> TOP = Set.of("models", "slices", "modules", "merge_method", "base_model",
            "dtype", "out_dtype", "tokenizer_source", "tokenizer", "chat_template", "parameters", "random_seed");
    private static final Set<String> MODEL = Set.of("model", "parameters");
    private static final Set<String> SLICE = Set.of("sources", "base_model", "residual_weight", "parameters");
    private static final Set<String> SOURCE = Set.of("model", "layer_range", "parameters");
    private static final Set<String> TOKENIZER = Set.of("source", "tokens", "pad_to_multiple_of");

    private final String source;

    private RecipeParser(String source) {
        this.source = source;
    }

    public static Recipe parse(Path file) throws IOException {
        Path abs = file.toAbsolutePath().normalize();
        return parse(Files.readString(abs), abs.getParent(), abs.toString());
    }

    public static Recipe parse(String yaml, Path folder, String source) {
        return new RecipeParser(source).read(yaml, folder);
    }

    private RecipeException error(String path, String message) {
        return new RecipeException(source + ": " + (path.isEmpty() ? "" : path + ": ") + message);
    }

    private Recipe read(String yaml, Path folder) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw error("", "not valid YAML: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw error("", "a recipe is a YAML mapping of keys");
        keys(root, "", TOP);
        if (root.has("modules")) {
            throw error("modules", "the modules: syntax (multi-module models) is not supported; use models: or slices:");
        }
        boolean hasModels = root.has("models") && !root.get("models").isNull();
        boolean hasSlices = root.has("slices") && !root.get("slices").isNull();
        if (hasModels == hasSlices) throw error("", "exactly one of 'models' or 'slices' must be present");
        String method = text(root, "merge_method", "");
        if (method == null) throw error("merge_method", "missing (e.g. linear, slerp, ties)");

        List<Recipe.InputModel> models = new ArrayList<>();
        if (hasModels) {
            JsonNode list = array(root.get("models"), "models");
            for (int i = 0; i < list.size(); i++) {
                String p = "models[" + i + "]";
                JsonNode m = list.get(i);
                if (!m.isObject()) throw error(p, "must be a mapping with 'model'");
                keys(m, p, MODEL);
                String name = text(m, "model", p);
                if (name == null) throw error(p, "missing 'model'");
                models.add(new Recipe.InputModel(name, params(m.get("parameters"), p + ".parameters")));
            }
            if (models.isEmpty()) throw error("models", "empty");
        }
        List<Recipe.OutputSlice> slices = new ArrayList<>();
        if (hasSlices) {
            JsonNode list = array(root.get("slices"), "slices");
            for (int i = 0; i < list.size(); i++) slices.add(slice(list.get(i), "slices[" + i + "]"));
            if (slices.isEmpty()) throw error("slices", "empty");
        }
        Long seed = null;
        if (root.has("random_seed")) {
            JsonNode s = root.get("random_seed");
            if (!s.isIntegralNumber() || !s.canConvertToLong()) throw error("random_seed", "must be an integer");
            seed = s.longValue();
        }
        TokenizerSpec tokenizer = null;
        if (root.has("tokenizer") && !root.get("tokenizer").isNull()) {
            if (root.has("tokenizer_source")) throw error("tokenizer", "cannot specify both tokenizer_source and tokenizer");
            tokenizer = tokenizer(root.get("tokenizer"));
        }
        return new Recipe(method, text(root, "base_model", ""), List.copyOf(models), List.copyOf(slices),
                params(root.get("parameters"), "parameters"), text(root, "dtype", ""), text(root, "out_dtype", ""),
                text(root, "tokenizer_source", ""), tokenizer, text(root, "chat_template", ""), seed, folder, source);
    }

    /** The {@code tokenizer:} block, as mergekit's TokenizerConfig (source defaults to union). */
    private TokenizerSpec tokenizer(JsonNode t) {
        if (!t.isObject()) throw error("tokenizer", "must be a mapping with 'source', 'tokens' and/or 'pad_to_multiple_of'");
        keys(t, "tokenizer", TOKENIZER);
        String source = text(t, "source", "tokenizer");
        if (source == null) source = TokenizerSpec.UNION;
        if (source.isBlank()) throw error("tokenizer.source", "must be union, base or a model");
        Integer pad = null;
        if (t.has("pad_to_multiple_of") && !t.get("pad_to_multiple_of").isNull()) {
            JsonNode v = t.get("pad_to_multiple_of");
            if (!v.isInt() || v.intValue() < 1) throw error("tokenizer.pad_to_multiple_of", "must be a positive integer");
            pad = v.intValue();
        }
        var tokens = new LinkedHashMap<String, TokenizerSpec.TokenEmbedding>();
        JsonNode list = t.get("tokens");
        if (list != null && !list.isNull()) {
            if (!list.isObject()) throw error("tokenizer.tokens", "must be a mapping of token strings to {source, force}");
            for (var e : list.properties()) tokens.put(e.getKey(), tokenEmbedding(e.getValue(), "tokenizer.tokens." + e.getKey()));
        }
        return new TokenizerSpec(source, java.util.Collections.unmodifiableMap(tokens), pad);
    }

    private TokenizerSpec.TokenEmbedding tokenEmbedding(JsonNode v, String p) {
        if (!v.isObject()) throw error(p, "must be a mapping with 'source' (and optionally 'force')");
        keys(v, p, Set.of("source", "force"));
        boolean force = false;
        if (v.has("force") && !v.get("force").isNull()) {
            if (!v.get("force").isBoolean()) throw error(p + ".force", "must be true or false");
            force = v.get("force").booleanValue();
        }
        JsonNode src = v.get("source");
        if (src == null || src.isNull()) throw error(p, "missing 'source' (a model, {kind: model_token, ...} or {kind: zero})");
        if (src.isTextual()) {
            if (src.textValue().isBlank()) throw error(p + ".source", "empty model reference");
            return new TokenizerSpec.TokenEmbedding(TokenizerSpec.TokenEmbedding.Kind.MODEL,
                    TokenizerSpec.modelReference(src.textValue()), null, null, force);
        }
        if (!src.isObject()) throw error(p + ".source", "must be a model reference or a mapping with 'kind'");
        String kind = text(src, "kind", p + ".source");
        if ("zero".equals(kind)) {
            keys(src, p + ".source", Set.of("kind"));
            return new TokenizerSpec.TokenEmbedding(TokenizerSpec.TokenEmbedding.Kind.ZERO, null, null, null, force);
        }
        if (!"model_token".equals(kind)) throw error(p + ".source.kind", "must be model_token or zero, got " + kind);
        keys(src, p + ".source", Set.of("kind", "model", "token", "token_id"));
        String model = text(src, "model", p + ".source");
        if (model == null) throw error(p + ".source", "model_token needs 'model'");
        String token = text(src, "token", p + ".source");
        Integer id = null;
        if (src.has("token_id") && !src.get("token_id").isNull()) {
            if (!src.get("token_id").isInt() || src.get("token_id").intValue() < 0) {
                throw error(p + ".source.token_id", "must be a non-negative integer");
            }
            id = src.get("token_id").intValue();
        }
        if ((token == null) == (id == null)) throw error(p + ".source", "give exactly one of 'token' and 'token_id'");
        return new TokenizerSpec.TokenEmbedding(TokenizerSpec.TokenEmbedding.Kind.MODEL_TOKEN,
                TokenizerSpec.modelReference(model), id, token, force);
    }

    private Recipe.OutputSlice slice(JsonNode s, String p) {
        if (!s.isObject()) throw error(p, "must be a mapping with 'sources'");
        keys(s, p, SLICE);
        JsonNode list = array(s.get("sources"), p + ".sources");
        List<Recipe.InputSlice> sources = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String sp = p + ".sources[" + i + "]";
            JsonNode src = list.get(i);
            if (!src.isObject()) throw error(sp, "must be a mapping with 'model' and 'layer_range'");
            keys(src, sp, SOURCE);
            String model = text(src, "model", sp);
            if (model == null) throw error(sp, "missing 'model'");
            JsonNode range = src.get("layer_range");
            if (range == null || !range.isArray() || range.size() != 2 || !range.get(0).isInt() || !range.get(1).isInt()) {
                throw error(sp + ".layer_range", "must be [start, end] with two integers");
            }
            int a = range.get(0).intValue(), b = range.get(1).intValue();
            if (a < 0 || b < a) throw error(sp + ".layer_range", "[" + a + ", " + b + "] is not a valid range");
            sources.add(new Recipe.InputSlice(model, a, b, params(src.get("parameters"), sp + ".parameters")));
        }
        if (sources.isEmpty()) throw error(p + ".sources", "empty");
        Double residual = null;
        if (s.has("residual_weight")) {
            if (!s.get("residual_weight").isNumber()) throw error(p + ".residual_weight", "must be a number");
            residual = s.get("residual_weight").doubleValue();
        }
        return new Recipe.OutputSlice(List.copyOf(sources), text(s, "base_model", p), residual,
                params(s.get("parameters"), p + ".parameters"));
    }

    private Map<String, ParameterSetting> params(JsonNode node, String path) {
        if (node == null || node.isNull()) return Map.of();
        if (!node.isObject()) throw error(path, "must be a mapping of parameter names to values");
        var out = new LinkedHashMap<String, ParameterSetting>();
        for (var e : node.properties()) out.put(e.getKey(), setting(e.getValue(), path + "." + e.getKey(), true));
        return java.util.Collections.unmodifiableMap(out);
    }

    private ParameterSetting setting(JsonNode v, String path, boolean conditionsAllowed) {
        if (v.isNumber()) return new ParameterSetting.Scalar(v.doubleValue());
        if (v.isBoolean()) return new ParameterSetting.Scalar(v.booleanValue());
        if (v.isTextual()) return new ParameterSetting.Scalar(v.textValue());
        if (v.isObject()) {
            if (!conditionsAllowed) throw error(path, "a condition's value must be a number or a list of numbers");
            return new ParameterSetting.Conditional(List.of(condition(v, path)));
        }
        if (v.isArray()) {
            if (v.isEmpty()) throw error(path, "empty list");
            boolean numbers = true, objects = true, plain = true;
            for (JsonNode e : v) {
                numbers &= e.isNumber();
                objects &= e.isObject();
                plain &= e.isNumber() || e.isBoolean() || e.isTextual();
            }
            if (numbers) {
                List<Double> pts = new ArrayList<>();
                for (JsonNode e : v) pts.add(e.doubleValue());
                return new ParameterSetting.Gradient(List.copyOf(pts));
            }
            if (plain) {
                List<Object> steps = new ArrayList<>();
                for (JsonNode e : v) steps.add(e.isNumber() ? (Object) e.doubleValue() : e.isBoolean() ? e.booleanValue() : e.textValue());
                return new ParameterSetting.Steps(List.copyOf(steps));
            }
            if (objects && conditionsAllowed) {
                List<ParameterSetting.Condition> conds = new ArrayList<>();
                for (int i = 0; i < v.size(); i++) conds.add(condition(v.get(i), path + "[" + i + "]"));
                return new ParameterSetting.Conditional(List.copyOf(conds));
            }
            throw error(path, "a list must hold only numbers, or only {filter, value} conditions");
        }
        throw error(path, "unsupported value " + v);
    }

    private ParameterSetting.Condition condition(JsonNode c, String path) {
        keys(c, path, Set.of("filter", "value"));
        if (!c.has("value")) throw error(path, "a condition needs a 'value'");
        JsonNode f = c.get("filter");
        if (f != null && !f.isNull() && !f.isTextual()) throw error(path + ".filter", "must be a string");
        return new ParameterSetting.Condition(f == null || f.isNull() ? null : f.textValue(),
                setting(c.get("value"), path + ".value", false));
    }

    private void keys(JsonNode node, String path, Set<String> allowed) {
        for (var name : (Iterable<String>) node::fieldNames) {
            if (!allowed.contains(name)) {
                throw error(path.isEmpty() ? name : path + "." + name,
                        "unknown key (expected one of " + new java.util.TreeSet<>(allowed) + ")");
            }
        }
    }

    private JsonNode array(JsonNode n, String path) {
        if (n == null || !n.isArray()) throw error(path, "must be a list");
        return n;
    }

    private String text(JsonNode node, String key, String path) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) {
            throw error(path.isEmpty() ? key : path + "." + key, "must be a string"
                    + (key.equals("model") || key.equals("base_model") ? " (a model path or name)" : ""));
        }
        return v.textValue();
    }
}
