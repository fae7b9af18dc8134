package dev.amalgam.hub;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.yaml.snakeyaml.LoaderOptions;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The YAML front matter of a Hub model card ({@code README.md} between two {@code ---} lines): the
 * fields Amalgam acts on, type-checked as the Hub reads them. The parser is bounded (size, nesting,
 * aliases, duplicate keys refused), so a hostile card is a clear error, never a hang.
 */
public record HubCard(String license, String licenseName, String licenseLink, List<String> baseModels,
                      String baseModelRelation, List<String> tags, List<String> datasets, String libraryName,
                      boolean hasFrontMatter) {
    /** Largest README.md read; cards are a few kilobytes, long ones some hundreds. */
    public static final int MAX_CARD_BYTES = 1 << 20;
    /** Largest front matter parsed. */
    public static final int MAX_FRONT_MATTER_BYTES = 64 * 1024;
    private static final int MAX_LIST = 1000;
    private static final int MAX_DEPTH = 20;
    private static final int MAX_DEPTH_PARSE = 1000;
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .loaderOptions(loaderOptions())
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH_PARSE).maxStringLength(MAX_FRONT_MATTER_BYTES).build())
            .build());
    /** The relations the Hub knows for {@code base_model_relation}. */
    public static final List<String> RELATIONS = List.of("adapter", "merge", "quantized", "finetune");

    public HubCard {
        baseModels = List.copyOf(baseModels);
        tags = List.copyOf(tags);
        datasets = List.copyOf(datasets);
    }

    /** A card without front matter. */
    public static HubCard empty() {
        return new HubCard(null, null, null, List.of(), null, List.of(), List.of(), null, false);
    }

    /** Parses a README.md; no front matter gives {@link #empty()}. */
    public static HubCard parse(byte[] readme) {
        if (readme.length > MAX_CARD_BYTES) {
            throw new HubException("README.md: larger than " + MAX_CARD_BYTES + " bytes: refused");
        }
        String yaml = frontMatter(new String(readme, StandardCharsets.UTF_8));
        if (yaml == null) return empty();
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JacksonException e) {
            throw new HubException("README.md front matter is not valid YAML: " + firstLine(e.getOriginalMessage()));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return new HubCard(null, null, null, List.of(), null, List.of(), List.of(), null, true);
        }
        if (!root.isObject()) throw new HubException("README.md front matter must be a mapping of keys, not " + kind(root));
        if (depth(root, 0) > MAX_DEPTH) {
            throw new HubException("README.md front matter nests deeper than " + MAX_DEPTH + " levels: refused");
        }
        String relation = string(root, "base_model_relation");
        if (relation != null && !RELATIONS.contains(relation)) {
            throw new HubException("README.md front matter: base_model_relation '" + relation + "' is not one of "
                    + String.join(", ", RELATIONS));
        }
        List<String> bases = strings(root, "base_model");
        return new HubCard(string(root, "license"), string(root, "license_name"), string(root, "license_link"),
                bases, relation, strings(root, "tags"), strings(root, "datasets"), string(root, "library_name"), true);
    }

    /** The text between a first line {@code ---} and the next line {@code ---}; null when the card has none. */
    static String frontMatter(String text) {
        String t = text.startsWith("\uFEFF") ? text.substring(1) : text;
        if (!t.startsWith("---\n") && !t.startsWith("---\r\n")) return null;
        int start = t.indexOf('\n') + 1;
        int pos = start;
        while (pos < t.length()) {
            int end = t.indexOf('\n', pos);
            String line = (end < 0 ? t.substring(pos) : t.substring(pos, end)).stripTrailing();
            if (line.equals("---")) {
                if (pos - start > MAX_FRONT_MATTER_BYTES) break;
                return t.substring(start, pos);
            }
            if (end < 0) break;
            pos = end + 1;
            if (pos - start > MAX_FRONT_MATTER_BYTES) {
                throw new HubException("README.md front matter is longer than " + MAX_FRONT_MATTER_BYTES + " bytes: refused");
            }
        }
        if (pos - start > MAX_FRONT_MATTER_BYTES) {
            throw new HubException("README.md front matter is longer than " + MAX_FRONT_MATTER_BYTES + " bytes: refused");
        }
        throw new HubException("README.md front matter is not closed: a line '---' must end it");
    }

    private static String string(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isValueNode() || v.isBinary()) {
            throw new HubException("README.md front matter: " + key + " must be a string, not " + kind(v));
        }
        String s = v.asText().strip();
        return s.isEmpty() ? null : s;
    }

    /** A string or a list of strings, as the Hub accepts for base_model, tags and datasets. */
    private static List<String> strings(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return List.of();
        if (v.isValueNode() && !v.isBinary()) return List.of(v.asText().strip());
        if (!v.isArray()) {
            throw new HubException("README.md front matter: " + key + " must be a string or a list of strings, not " + kind(v));
        }
        if (v.size() > MAX_LIST) throw new HubException("README.md front matter: " + key + " has more than " + MAX_LIST + " entries");
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isValueNode() || e.isNull() || e.isBinary()) {
                throw new HubException("README.md front matter: every entry of " + key + " must be a string, not " + kind(e));
            }
            out.add(e.asText().strip());
        }
        return out;
    }

    /** Nesting depth, stopping once past the limit (SnakeYAML's own limit is not applied by Jackson's streaming parser). */
    private static int depth(JsonNode n, int d) {
        if (d > MAX_DEPTH || !n.isContainerNode()) return d;
        int max = d;
        for (JsonNode c : n) max = Math.max(max, depth(c, d + 1));
        return max;
    }

    private static String kind(JsonNode n) {
        return n.isObject() ? "a mapping" : n.isArray() ? "a list" : n.isNull() ? "null" : "a " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static LoaderOptions loaderOptions() {
        LoaderOptions o = new LoaderOptions();
        o.setAllowDuplicateKeys(false);
        o.setMaxAliasesForCollections(20);
        o.setNestingDepthLimit(20);
        o.setCodePointLimit(MAX_FRONT_MATTER_BYTES);
        o.setAllowRecursiveKeys(false);
        return o;
    }

    /** The card's fields as a map in the Hub's key names (for messages and records). */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        if (license != null) m.put("license", license);
        if (licenseName != null) m.put("license_name", licenseName);
        if (licenseLink != null) m.put("license_link", licenseLink);
        if (!baseModels.isEmpty()) m.put("base_model", baseModels);
        if (baseModelRelation != null) m.put("base_model_relation", baseModelRelation);
        if (!tags.isEmpty()) m.put("tags", tags);
        if (!datasets.isEmpty()) m.put("datasets", datasets);
        if (libraryName != null) m.put("library_name", libraryName);
        return m;
    }
}
