package dev.amalgam.merge.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.SourceModel;
import dev.amalgam.merge.recipe.TokenizerSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The vocabulary of a merge with a tokenizer setting, built as mergekit builds it, and for
 * every merged model the row each output token has in that model (mergekit's "permutations").
 *
 * <ul>
 * <li>{@code base}: the base model's tokenizer (the first model's when there is no base),
 * stripped of tokens that have no embedding row (ids at or above its {@code vocab_size}).</li>
 * <li>a model: that model's tokenizer as it is.</li>
 * <li>{@code union}: the stripped base tokenizer, then every token of the other models (rows
 * below their {@code vocab_size}) it lacks, appended as ordinary added tokens, then the added
 * (special) tokens of all models with their settings. Models are taken base first, then in
 * recipe order, tokens in id order: mergekit walks a hash map here, so its new ids can differ
 * from run to run; these never do.</li>
 * </ul>
 * Tokens named in {@code tokenizer.tokens} that are still missing are appended last. The
 * output has one embedding row per token, padded up to {@code pad_to_multiple_of}.
 */
public final class OutputTokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TokenizerSpec spec;
    private final ObjectNode tokenizerJson;
    private final Path filesFrom;
    private final List<String> tokens;
    private final int rows;
    private final Map<String, int[]> rowsByModel;
    private final Map<String, Vocabulary> vocabularies;
    private final List<ObjectNode> addedEntries;
    private final String baseModel;

    private OutputTokenizer(TokenizerSpec spec, ObjectNode tokenizerJson, Path filesFrom, List<String> tokens, int rows,
                            Map<String, int[]> rowsByModel, Map<String, Vocabulary> vocabularies,
                            List<ObjectNode> addedEntries, String baseModel) {
        this.spec = spec;
        this.tokenizerJson = tokenizerJson;
        this.filesFrom = filesFrom;
        this.tokens = tokens;
        this.rows = rows;
        this.rowsByModel = rowsByModel;
        this.vocabularies = vocabularies;
        this.addedEntries = addedEntries;
        this.baseModel = baseModel;
    }

    /**
     * {@code refs}: the merged models, not the folders a method parameter names (DAM's
     * coefficients), as {@code RecipeModels.merged(recipe)} lists them.
     */
    public static OutputTokenizer build(TokenizerSpec spec, Recipe recipe, List<String> refs,
                                        Map<String, SourceModel> models, ModelResolver resolver) throws IOException {
        String base = recipe.baseModel() != null ? recipe.baseModel() : refs.getFirst();
        Map<String, Vocabulary> vocabs = new LinkedHashMap<>();
        vocabs.put(base, Vocabulary.read(base, models.get(base).dir(), configRows(models.get(base))).stripped());
        for (String ref : refs) {
            if (!ref.equals(base)) vocabs.put(ref, Vocabulary.read(ref, models.get(ref).dir(), configRows(models.get(ref))));
        }
        Vocabulary start;
        Path filesFrom;
        if (spec.isBase() || spec.isUnion()) {
            start = vocabs.get(base);
            filesFrom = models.get(base).dir();
        } else {
            String ref = spec.model();
            filesFrom = models.containsKey(ref) ? models.get(ref).dir() : resolver.resolve(ref, recipe.folder());
            start = Vocabulary.read(ref, filesFrom, null);
        }
        ObjectNode json = start.json();
        Map<String, Integer> ids = new LinkedHashMap<>(start.ids());
        List<ObjectNode> added = new ArrayList<>();
        int[] next = {ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1};
        if (spec.isUnion()) {
            // ordinary tokens first, then the added tokens with their own settings (as mergekit)
            Map<String, ObjectNode> addedInfo = new LinkedHashMap<>();
            var plain = new java.util.LinkedHashSet<String>();
            for (Vocabulary v : vocabs.values()) {
                for (String t : byId(v)) {
                    if (v.ids().get(t) >= v.rows()) continue;
                    if (v.isAdded(t)) addedInfo.putIfAbsent(t, v.addedEntry(t));
                    else if (!ids.containsKey(t)) plain.add(t);
                }
            }
            for (String t : plain) {
                if (addedInfo.containsKey(t)) continue;
                added.add(addToken(json, ids, t, null, next));
            }
            for (var e : addedInfo.entrySet()) {
                if (start.isAdded(e.getKey())) continue;
                added.add(addToken(json, ids, e.getKey(), e.getValue(), next));
            }
        }
        for (String t : spec.tokens().keySet()) {
            if (!ids.containsKey(t)) added.add(addToken(json, ids, t, null, next));
        }
        List<String> tokens = new ArrayList<>(Collections.nCopies(ids.size(), (String) null));
        for (var e : ids.entrySet()) {
            int id = e.getValue();
            if (id >= ids.size() || tokens.get(id) != null) {
                throw new RecipeException("tokenizer: the output vocabulary's ids are not 0.." + (ids.size() - 1)
                        + " without gaps (token " + Vocabulary.quote(e.getKey()) + " has id " + id
                        + "): its embedding rows cannot be laid out");
            }
            tokens.set(id, e.getKey());
        }
        int rows = tokens.size();
        Integer pad = spec.padToMultipleOf();
        if (pad != null && rows % pad != 0) rows = (rows / pad + 1) * pad;
        Map<String, int[]> perms = new LinkedHashMap<>();
        for (var e : vocabs.entrySet()) {
            Vocabulary v = e.getValue();
            int[] p = new int[tokens.size()];
            for (int i = 0; i < p.length; i++) {
                Integer orig = v.ids().get(tokens.get(i));
                p[i] = orig == null || orig >= v.rows() ? -1 : orig;
            }
            perms.put(e.getKey(), p);
        }
        return new OutputTokenizer(spec, json, filesFrom, List.copyOf(tokens), rows, perms, vocabs, added, base);
    }

    /** Appends an added token (HF {@code add_tokens}): a new id, or the existing one when the content is known. */
    private static ObjectNode addToken(ObjectNode json, Map<String, Integer> ids, String token, ObjectNode info, int[] next) {
        ObjectNode entry = info != null ? info.deepCopy() : JSON.createObjectNode();
        Integer id = ids.get(token);
        if (id == null) {
            id = next[0]++;
            ids.put(token, id);
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("id", id);
        out.put("content", token);
        out.put("single_word", entry.path("single_word").asBoolean(false));
        out.put("lstrip", entry.path("lstrip").asBoolean(false));
        out.put("rstrip", entry.path("rstrip").asBoolean(false));
        boolean special = entry.path("special").asBoolean(false);
        out.put("normalized", entry.has("normalized") ? entry.get("normalized").asBoolean() : !special);
        out.put("special", special);
        JsonNode list = json.get("added_tokens");
        if (!(list instanceof ArrayNode)) list = json.putArray("added_tokens");
        ((ArrayNode) list).add(out);
        return out;
    }

    private static List<String> byId(Vocabulary v) {
        List<String> out = new ArrayList<>(v.ids().keySet());
        out.sort((a, b) -> Integer.compare(v.ids().get(a), v.ids().get(b)));
        return out;
    }

    /** The number of embedding rows the model's config declares, or null. */
    public static Integer configRows(SourceModel m) {
        if (m.config() == null) return null;
        JsonNode v = m.config().get("vocab_size");
        if ((v == null || v.isNull()) && m.config().get("text_config") instanceof ObjectNode text) v = text.get("vocab_size");
        return v != null && v.isInt() ? v.intValue() : null;
    }

    /**
     * Writes tokenizer.json and brings tokenizer_config.json's {@code added_tokens_decoder} (when
     * the copied file has one) in line with it: entries without a row dropped, new ones added.
     */
    public void writeFiles(Path dir) throws IOException {
        var pretty = JSON.writerWithDefaultPrettyPrinter();
        pretty.writeValue(dir.resolve(Vocabulary.FILE).toFile(), tokenizerJson);
        Path config = dir.resolve("tokenizer_config.json");
        if (!java.nio.file.Files.isRegularFile(config)) return;
        JsonNode root = JSON.readTree(config.toFile());
        if (!(root instanceof ObjectNode c) || !(c.get("added_tokens_decoder") instanceof ObjectNode decoder)) return;
        var ids = new java.util.HashSet<String>();
        for (int i = 0; i < tokens.size(); i++) ids.add(String.valueOf(i));
        decoder.properties().removeIf(e -> !ids.contains(e.getKey()));
        for (ObjectNode a : addedEntries) {
            ObjectNode d = a.deepCopy();
            d.remove("id");
            decoder.set(String.valueOf(a.get("id").intValue()), d);
        }
        pretty.writeValue(config.toFile(), c);
    }

    public TokenizerSpec spec() {
        return spec;
    }

    /** The output tokenizer.json. */
    public ObjectNode tokenizerJson() {
        return tokenizerJson.deepCopy();
    }

    /** Where the other tokenizer files (tokenizer_config.json, ...) are copied from. */
    public Path filesFrom() {
        return filesFrom;
    }

    /** Output tokens by id. */
    public List<String> tokens() {
        return tokens;
    }

    /** Embedding rows of the output (the vocabulary padded to pad_to_multiple_of). */
    public int rows() {
        return rows;
    }

    /** For each output id, the token's row in {@code model}, or -1 when the model lacks it. */
    public int[] rowsOf(String model) {
        int[] p = rowsByModel.get(model);
        if (p == null) throw new IllegalArgumentException("model " + model + " is not part of the merge");
        return p;
    }

    /** The id a token has in a merged model's own tokenizer (the base's stripped one), or null. */
    public Integer originalId(String model, String token) {
        return vocabularies.get(model).ids().get(token);
    }

    /** The base model as the tokenizer sees it (the first model when the recipe has no base). */
    public String baseModel() {
        return baseModel;
    }

    /** Added-token entries the output has beyond its source tokenizer (for tokenizer_config.json). */
    public List<ObjectNode> addedEntries() {
        return addedEntries;
    }
}
