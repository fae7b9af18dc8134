package dev.amalgam.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.merge.recipe.RecipeException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the planner needs to know about a model family, read from resource files
 * ({@code amalgam/architectures/*.json}), not code: how layer tensors are named, which
 * tensors come before and after the layers, which are vocab-sized, which may be absent (a
 * tied {@code lm_head}). Detected from {@code config.json} {@code architectures}; unknown
 * families fall back to {@code generic} ({@code *.layers.N.*}, every other tensor merged as a
 * non-layer tensor).
 */
public record Architecture(String name, List<String> architectures, String numLayersKey, Pattern layerPattern,
                           List<String> preWeights, List<String> postWeights, Set<String> optional,
                           Set<String> embeddings) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Architecture> KNOWN = loadAll();
    private static final Architecture GENERIC = load("generic");

    public boolean generic() {
        return name.equals("generic");
    }

    /** The family named by {@code config.json}'s first known {@code architectures} entry. */
    public static Architecture detect(JsonNode config) {
        JsonNode archs = config == null ? null : config.get("architectures");
        if (archs != null && archs.isArray()) {
            for (JsonNode a : archs) {
                for (Architecture k : KNOWN) if (k.architectures.contains(a.asText())) return k;
            }
        }
        return GENERIC;
    }

    public static Architecture byName(String name) {
        for (Architecture k : KNOWN) if (k.name.equals(name)) return k;
        if (name.equals("generic")) return GENERIC;
        throw new IllegalArgumentException("unknown architecture " + name);
    }

    public static List<Architecture> known() {
        return KNOWN;
    }

    public int numLayers(JsonNode config, String model) {
        JsonNode n = config == null ? null : config.get(numLayersKey);
        if (n == null || !n.canConvertToInt()) {
            throw new RecipeException("model " + model + ": config.json has no integer " + numLayersKey);
        }
        return n.intValue();
    }

    /** Layer index of a tensor name, or -1 when it is not a layer tensor. */
    public int layerOf(String tensor) {
        Matcher m = layerPattern.matcher(tensor);
        return m.matches() ? Integer.parseInt(m.group(2)) : -1;
    }

    /** The part of a layer tensor's name after its index ({@code self_attn.q_proj.weight}). */
    public String suffixOf(String tensor) {
        Matcher m = layerPattern.matcher(tensor);
        return m.matches() ? m.group(3) : null;
    }

    public String prefixOf(String tensor) {
        Matcher m = layerPattern.matcher(tensor);
        return m.matches() ? m.group(1) : null;
    }

    private static List<Architecture> loadAll() {
        List<Architecture> out = new ArrayList<>();
        try (InputStream in = resource("index.txt");
             var r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank()) out.add(load(line.trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(out);
    }

    private static InputStream resource(String file) throws IOException {
        InputStream in = Architecture.class.getResourceAsStream("/amalgam/architectures/" + file);
        if (in == null) throw new IOException("missing resource amalgam/architectures/" + file);
        return in;
    }

    private static Architecture load(String name) {
        try (InputStream in = resource(name + ".json")) {
            JsonNode n = JSON.readTree(in);
            return new Architecture(n.get("name").asText(), strings(n, "architectures"), n.get("num_layers_key").asText(),
                    Pattern.compile(n.get("layer_pattern").asText()), strings(n, "pre_weights"), strings(n, "post_weights"),
                    Set.copyOf(strings(n, "optional")), Set.copyOf(strings(n, "embeddings")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> strings(JsonNode n, String key) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : n.get(key)) out.add(e.asText());
        return List.copyOf(out);
    }
}
