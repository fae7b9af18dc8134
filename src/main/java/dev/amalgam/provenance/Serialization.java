package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a model is split into resources before hashing, as the OMS predicate records it:
 * {@code files} (one SHA-256 per file) or {@code shards} ({@code path:start:end} pieces of
 * {@code shardSize} bytes).
 */
public record Serialization(String method, String hashType, long shardSize, boolean allowSymlinks,
                            List<String> ignorePaths) {
    public static final long DEFAULT_SHARD_SIZE = 1_000_000_000L;
    private static final Pattern SHARDED = Pattern.compile("sha256(?:-sharded-(\\d+))?");

    public Serialization {
        ignorePaths = List.copyOf(ignorePaths);
        if (!method.equals("files") && !method.equals("shards")) {
            throw new ProvenanceException("unknown serialization method '" + method + "' (expected files or shards)");
        }
        if (!hashType.equals("sha256")) {
            throw new ProvenanceException("unsupported hash algorithm '" + hashType + "' (only sha256)");
        }
        if (method.equals("shards") && shardSize < 1) throw new ProvenanceException("shard_size must be positive");
    }

    public static Serialization files(List<String> ignorePaths) {
        return new Serialization("files", "sha256", 0, false, ignorePaths);
    }

    public static Serialization shards(long shardSize, List<String> ignorePaths) {
        return new Serialization("shards", "sha256", shardSize, false, ignorePaths);
    }

    public boolean sharded() {
        return method.equals("shards");
    }

    /** The predicate's {@code serialization} object, keys in the reference implementation's order. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("method", method);
        o.put("hash_type", hashType);
        if (sharded()) o.put("shard_size", shardSize);
        o.put("allow_symlinks", allowSymlinks);
        if (!ignorePaths.isEmpty()) {
            var a = o.putArray("ignore_paths");
            ignorePaths.forEach(a::add);
        }
        return o;
    }

    /**
     * Reads what real bundles contain: {@code shard_size} as an integer or a float, hash types
     * with a {@code -sharded-N} suffix, {@code ignore_paths} absent.
     */
    public static Serialization fromJson(JsonNode o) {
        if (o == null || !o.isObject()) throw new ProvenanceException("predicate has no serialization object");
        String method = text(o, "method");
        String hash = text(o, "hash_type");
        Matcher m = SHARDED.matcher(hash);
        if (!m.matches()) throw new ProvenanceException("unsupported hash algorithm '" + hash + "' (only sha256)");
        long shard = 0;
        if (method.equals("shards")) {
            JsonNode s = o.get("shard_size");
            if (s != null && s.isNumber()) {
                double d = s.asDouble();
                if (d != Math.rint(d) || d < 1 || d > Long.MAX_VALUE) throw new ProvenanceException("invalid shard_size " + s);
                shard = (long) d;
            } else if (m.group(1) != null) {
                shard = Long.parseLong(m.group(1));
            } else {
                throw new ProvenanceException("shards serialization without shard_size");
            }
        }
        JsonNode allow = o.get("allow_symlinks");
        List<String> ignore = new ArrayList<>();
        JsonNode ig = o.get("ignore_paths");
        if (ig != null && ig.isArray()) ig.forEach(x -> ignore.add(x.asText()));
        return new Serialization(method, "sha256", shard, allow != null && allow.asBoolean(), ignore);
    }

    private static String text(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null || !v.isTextual()) throw new ProvenanceException("serialization." + key + " missing or not a string");
        return v.asText();
    }
}
