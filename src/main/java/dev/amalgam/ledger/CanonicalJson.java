package dev.amalgam.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Canonical JSON of ledger entries: object keys sorted by their UTF-16 code units (as RFC 8785
 * does), no insignificant whitespace, UTF-8. Numbers are kept to integers and strings by the
 * entry schema, so the byte form is unique.
 */
public final class CanonicalJson {
    static final ObjectMapper JSON = new ObjectMapper();

    private CanonicalJson() {
    }

    public static byte[] bytes(JsonNode n) {
        try {
            return JSON.writeValueAsBytes(sorted(n));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode sorted(JsonNode n) {
        if (n.isObject()) {
            List<String> names = new ArrayList<>();
            n.fieldNames().forEachRemaining(names::add);
            Collections.sort(names);
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            for (String k : names) o.set(k, sorted(n.get(k)));
            return o;
        }
        if (n.isArray()) {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            n.forEach(x -> a.add(sorted(x)));
            return a;
        }
        if (n.isFloatingPointNumber()) throw new IllegalArgumentException("ledger entries hold no floating-point numbers");
        return n;
    }
}
