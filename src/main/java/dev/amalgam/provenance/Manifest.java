package dev.amalgam.provenance;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's OMS manifest: its name, how it was serialized, and one SHA-256 per resource (file,
 * or {@code path:start:end} shard) in canonical order. The root digest (the model's identity) is
 * the SHA-256 of the raw resource digests concatenated in that order.
 */
public record Manifest(String modelName, Serialization serialization, List<Resource> resources) {
    public Manifest {
        resources = List.copyOf(resources);
    }

    /** One hashed piece of the model. */
    public record Resource(String name, String digest) {
    }

    public String rootDigest() {
        return rootDigest(resources);
    }

    public static String rootDigest(List<Resource> resources) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Resource r : resources) md.update(HexFormat.of().parseHex(r.digest()));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Resources by name, for comparing two manifests regardless of order. */
    public Map<String, String> asMap() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Resource r : resources) m.put(r.name(), r.digest());
        return m;
    }
}
