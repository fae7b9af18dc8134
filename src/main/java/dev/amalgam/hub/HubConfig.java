package dev.amalgam.hub;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;

/** What a repository's {@code config.json} says about the model: its {@code model_type}, {@code architectures} and {@code torch_dtype}. */
public record HubConfig(String modelType, List<String> architectures, String dtype) {
    /** Largest config.json read; real ones are a few kilobytes. */
    public static final int MAX_BYTES = 4 << 20;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build()).build());

    public HubConfig {
        architectures = List.copyOf(architectures);
    }

    public static HubConfig parse(byte[] bytes) {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw new HubException("config.json is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new HubException("config.json cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw new HubException("config.json must be a JSON object");
        List<String> arch = new ArrayList<>();
        JsonNode a = root.get("architectures");
        if (a != null && !a.isNull()) {
            if (!a.isArray()) throw new HubException("config.json: architectures must be a list of strings");
            for (JsonNode e : a) {
                if (!e.isTextual()) throw new HubException("config.json: architectures must be a list of strings");
                arch.add(e.asText());
            }
        }
        return new HubConfig(text(root, "model_type"), arch, text(root, "torch_dtype"));
    }

    private static String text(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new HubException("config.json: " + key + " must be a string");
        return v.asText();
    }
}
