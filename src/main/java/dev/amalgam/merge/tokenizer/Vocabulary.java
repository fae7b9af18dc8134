package dev.amalgam.merge.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.merge.recipe.RecipeException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's vocabulary as a Hugging Face fast tokenizer reports it ({@code get_vocab()}): the
 * tokens of {@code tokenizer.json}'s model (BPE, WordPiece and WordLevel map token to id,
 * Unigram lists pieces in id order) plus its added tokens, together with the number of
 * embedding rows the model really has ({@code vocab_size} of its config). Read once, validated,
 * then trusted.
 */
public final class Vocabulary {
    public static final String FILE = "tokenizer.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private final String model;
    private final ObjectNode json;
    private final Map<String, Integer> ids;
    private final Set<String> added;
    private final int rows;

    private Vocabulary(String model, ObjectNode json, Map<String, Integer> ids, Set<String> added, int rows) {
        this.model = model;
        this.json = json;
        this.ids = ids;
        this.added = added;
        this.rows = rows;
    }

    /** Reads {@code dir/tokenizer.json}; {@code configRows} is the config's vocab_size (null: the vocabulary's size). */
    public static Vocabulary read(String model, Path dir, Integer configRows) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new RecipeException("model " + model + ": no " + FILE + " (a fast tokenizer) in " + dir
                    + ": its embedding rows cannot be mapped by token; give the model a tokenizer.json or"
                    + " drop the tokenizer setting to copy the base model's tokenizer unchanged");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new RecipeException("model " + model + ": " + FILE + " is not valid JSON: " + e.getOriginalMessage());
        }
        if (!(root instanceof ObjectNode obj)) throw bad(model, "is not a JSON object");
        JsonNode m = obj.get("model");
        if (!(m instanceof ObjectNode)) throw bad(model, "has no 'model' object");
        String type = m.path("type").asText("");
        Map<String, Integer> ids = new LinkedHashMap<>();
        JsonNode vocab = m.get("vocab");
        switch (type) {
            case "BPE", "WordPiece", "WordLevel" -> {
                if (vocab == null || !vocab.isObject()) throw bad(model, "model.vocab must be an object of token to id");
                for (var e : vocab.properties()) {
                    if (!e.getValue().isInt() || e.getValue().intValue() < 0) {
                        throw bad(model, "model.vocab: token " + quote(e.getKey()) + " has id " + e.getValue() + ", not a non-negative integer");
                    }
                    ids.put(e.getKey(), e.getValue().intValue());
                }
            }
            case "Unigram" -> {
                if (vocab == null || !vocab.isArray()) throw bad(model, "model.vocab must be a list of [piece, score]");
                for (int i = 0; i < vocab.size(); i++) {
                    JsonNode p = vocab.get(i);
                    if (!p.isArray() || p.isEmpty() || !p.get(0).isTextual()) throw bad(model, "model.vocab[" + i + "] is not [piece, score]");
                    ids.putIfAbsent(p.get(0).textValue(), i);
                }
            }
            default -> throw bad(model, "has tokenizer model type " + quote(type) + " (BPE, WordPiece, WordLevel or Unigram expected)");
        }
        Set<String> added = new HashSet<>();
        JsonNode list = obj.get("added_tokens");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) throw bad(model, "added_tokens must be a list");
            for (int i = 0; i < list.size(); i++) {
                JsonNode a = list.get(i);
                if (!a.isObject() || !a.path("id").isInt() || a.path("id").intValue() < 0 || !a.path("content").isTextual()) {
                    throw bad(model, "added_tokens[" + i + "] needs an integer 'id' and a string 'content'");
                }
                ids.put(a.get("content").textValue(), a.get("id").intValue());
                added.add(a.get("content").textValue());
            }
        }
        if (configRows != null && configRows < 1) throw new RecipeException("model " + model + ": config.json vocab_size " + configRows + " is not positive");
        return new Vocabulary(model, obj, Collections.unmodifiableMap(ids), Collections.unmodifiableSet(added),
                configRows != null ? configRows : ids.size());
    }

    private static RecipeException bad(String model, String what) {
        return new RecipeException("model " + model + ": " + FILE + " " + what);
    }

    public static String quote(String token) {
        return JSON.getNodeFactory().textNode(token).toString();
    }

    public String model() {
        return model;
    }

    /** token → id over the whole tokenizer, added tokens included. */
    public Map<String, Integer> ids() {
        return ids;
    }

    public boolean isAdded(String token) {
        return added.contains(token);
    }

    /** Embedding rows the model has: ids at or above it name no row. */
    public int rows() {
        return rows;
    }

    /** A copy of the raw tokenizer.json. */
    public ObjectNode json() {
        return json.deepCopy();
    }

    /** The added_tokens entry of a token, or null. */
    public ObjectNode addedEntry(String token) {
        JsonNode list = json.get("added_tokens");
        if (list == null || !list.isArray()) return null;
        for (JsonNode a : list) if (token.equals(a.get("content").textValue())) return (ObjectNode) a.deepCopy();
        return null;
    }

    /**
     * The vocabulary with every token whose id has no embedding row removed (mergekit's
     * "stripped" tokenizer): from the model vocabulary, the added tokens and the BPE merges.
     * Only BPE tokenizers can be stripped this way, as in mergekit.
     */
    public Vocabulary stripped() {
        List<String> unused = new ArrayList<>();
        ids.forEach((t, id) -> {
            if (id >= rows) unused.add(t);
        });
        if (unused.isEmpty()) return this;
        ObjectNode out = json.deepCopy();
        ObjectNode m = (ObjectNode) out.get("model");
        if (!"BPE".equals(m.path("type").asText())) {
            throw new RecipeException("model " + model + ": " + unused.size() + " tokens have ids at or above vocab_size "
                    + rows + " and its " + m.path("type").asText() + " tokenizer cannot be stripped of them"
                    + " (only BPE can, as in mergekit)");
        }
        Set<String> drop = new HashSet<>(unused);
        ObjectNode vocab = (ObjectNode) m.get("vocab");
        for (String t : unused) vocab.remove(t);
        JsonNode merges = m.get("merges");
        if (merges instanceof ArrayNode list) {
            ArrayNode kept = JSON.createArrayNode();
            for (JsonNode e : list) {
                List<String> parts = new ArrayList<>();
                if (e.isTextual() && e.textValue().indexOf(' ') > 0 && e.textValue().indexOf(' ') == e.textValue().lastIndexOf(' ')) {
                    parts.addAll(List.of(e.textValue().split(" ", 2)));
                } else if (e.isArray()) {
                    for (JsonNode x : e) parts.add(x.asText());
                } else {
                    throw bad(model, "model.merges holds an entry that is neither \"a b\" nor [a, b]: " + e);
                }
                if (parts.stream().noneMatch(drop::contains)) kept.add(e);
            }
            m.set("merges", kept);
        }
        JsonNode addedList = out.get("added_tokens");
        if (addedList instanceof ArrayNode list) {
            ArrayNode kept = JSON.createArrayNode();
            for (JsonNode a : list) if (a.get("id").intValue() < rows) kept.add(a);
            out.set("added_tokens", kept);
        }
        Map<String, Integer> keptIds = new LinkedHashMap<>();
        ids.forEach((t, id) -> {
            if (id < rows) keptIds.put(t, id);
        });
        Set<String> keptAdded = new HashSet<>(added);
        keptAdded.removeAll(drop);
        return new Vocabulary(model, out, Collections.unmodifiableMap(keptIds), Collections.unmodifiableSet(keptAdded), rows);
    }
}
