package dev.amalgam.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A YAML node together with the file and the path that led to it, so every validation error can
 * name file, entry and field. Only the policy loaders use it.
 */
final class PolicyYaml {
    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    private final String file;
    private final String path;
    private final JsonNode node;

    private PolicyYaml(String file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    /** Parses a whole file; its root must be a mapping. */
    static PolicyYaml read(String file, byte[] bytes) {
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            String msg = e.getOriginalMessage().replaceAll("\\s+", " ");
            var loc = e.getLocation();
            String where = loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
            throw new PolicyFileException(file + ": not valid YAML" + where + ": " + msg, e);
        } catch (IOException e) {
            throw new PolicyFileException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) throw new PolicyFileException(file + ": file is empty");
        PolicyYaml y = new PolicyYaml(file, "", root);
        y.requireObject();
        return y;
    }

    PolicyFileException error(String problem) {
        return new PolicyFileException(file + ": " + (path.isEmpty() ? "" : path + ": ") + problem);
    }

    /** Fails unless this node is a mapping. */
    PolicyYaml requireObject() {
        if (!node.isObject()) throw error("expected a mapping but found " + kind(node));
        return this;
    }

    /** Rejects keys outside {@code allowed} and checks that the {@code required} ones are present. */
    PolicyYaml keys(Set<String> required, Set<String> allowed) {
        requireObject();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k) && !required.contains(k)) {
                Set<String> all = new TreeSet<>(allowed);
                all.addAll(required);
                throw error("unknown key '" + k + "' (allowed: " + String.join(", ", all) + ")");
            }
        }
        for (String k : required) {
            if (!node.has(k) || node.get(k).isNull()) throw error("missing required key '" + k + "'");
        }
        return this;
    }

    boolean has(String key) {
        return node.has(key) && !node.get(key).isNull();
    }

    PolicyYaml get(String key) {
        if (!has(key)) throw error("missing required key '" + key + "'");
        return new PolicyYaml(file, path.isEmpty() ? key : path + "." + key, node.get(key));
    }

    Optional<PolicyYaml> opt(String key) {
        return has(key) ? Optional.of(get(key)) : Optional.empty();
    }

    /** This node as a mapping; returns its entries in file order. */
    List<PolicyYaml> entries() {
        requireObject();
        List<PolicyYaml> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(k ->
                out.add(new PolicyYaml(file, path.isEmpty() ? k : path + "." + k, node.get(k))));
        return out;
    }

    /** The last path segment (the mapping key this node sits under). */
    String key() {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? path : path.substring(dot + 1);
    }

    List<PolicyYaml> list() {
        if (!node.isArray()) throw error("expected a list but found " + kind(node));
        List<PolicyYaml> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) out.add(new PolicyYaml(file, path + "[" + i + "]", node.get(i)));
        return out;
    }

    /** Names this list element by a field of it, e.g. {@code rules[2] (scan)}, for later messages. */
    PolicyYaml labelled(String label) {
        return new PolicyYaml(file, path + " (" + label + ")", node);
    }

    String string() {
        if (!node.isTextual()) throw error("expected text but found " + kind(node));
        String s = node.textValue().strip();
        if (s.isEmpty()) throw error("must not be empty");
        return s;
    }

    List<String> strings() {
        List<String> out = new ArrayList<>();
        for (PolicyYaml y : list()) out.add(y.string());
        return List.copyOf(out);
    }

    boolean bool() {
        if (!node.isBoolean()) throw error("expected true or false but found " + kind(node));
        return node.booleanValue();
    }

    long positiveLong() {
        if (!node.canConvertToLong() || !node.isIntegralNumber()) throw error("expected a whole number but found " + kind(node));
        long v = node.longValue();
        if (v <= 0) throw error("must be positive but is " + v);
        return v;
    }

    double positiveNumber() {
        if (!node.isNumber()) throw error("expected a number but found " + kind(node));
        double v = node.doubleValue();
        if (!(v > 0) || Double.isInfinite(v)) throw error("must be a positive finite number but is " + node.asText());
        return v;
    }

    int integer() {
        if (!node.isInt()) throw error("expected a whole number but found " + kind(node));
        return node.intValue();
    }

    /** An ISO-8601 instant ({@code 2026-12-31T00:00:00Z}) or a date, meaning the start of that day in UTC. */
    Instant instant() {
        String s = node.isTextual() ? node.textValue().strip() : node.asText();
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            try {
                return LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException e2) {
                throw error("expected a date (2026-12-31) or instant (2026-12-31T00:00:00Z) but found '" + s + "'");
            }
        }
    }

    /** One of {@code choices}, compared exactly. */
    String oneOf(Set<String> choices) {
        String s = string();
        if (!choices.contains(s)) throw error("'" + s + "' is not one of " + String.join(", ", new TreeSet<>(choices)));
        return s;
    }

    private static String kind(JsonNode n) {
        if (n.isObject()) return "a mapping";
        if (n.isArray()) return "a list";
        if (n.isTextual()) return "text '" + n.textValue() + "'";
        if (n.isBoolean()) return "a boolean";
        if (n.isNumber()) return "the number " + n.asText();
        if (n.isNull()) return "nothing";
        return n.getNodeType().toString().toLowerCase(Locale.ROOT);
    }
}
