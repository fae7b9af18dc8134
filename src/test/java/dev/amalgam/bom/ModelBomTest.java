package dev.amalgam.bom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.cyclonedx.exception.ParseException;
import org.cyclonedx.parsers.JsonParser;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ML-BOM of a merged model: schema-valid CycloneDX 1.6, with the facts where the spec puts them. */
public class ModelBomTest {
    static final String ROOT = "sha256:" + "ab".repeat(32);
    static final String BASE = "sha256:" + "cd".repeat(32);
    static final String INPUT = "sha256:" + "ef".repeat(32);

    /** Schema violations of a BOM, as CycloneDX's own validator reports them. */
    public static List<ParseException> violations(String json) throws Exception {
        return new JsonParser().validate(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), ModelBom.VERSION);
    }

    private static String bom() {
        return ModelBom.json(new ModelBom.Subject("acme/merged", "1", ROOT, "Apache-2.0 AND MIT", "merge", null,
                        Instant.parse("2026-12-02T10:00:00Z")),
                List.of(new ModelBom.FileEntry("model.safetensors", "12".repeat(32), 1024),
                        new ModelBom.FileEntry("config.json", "34".repeat(32), 200)),
                List.of(new ModelBom.Ancestor("acme/base", "0123456789abcdef0123456789abcdef01234567", BASE, "Apache-2.0",
                                "base", "hf://acme/base@0123456789abcdef0123456789abcdef01234567"),
                        new ModelBom.Ancestor("chat", "1", INPUT, "MIT", "input", null)),
                new ModelBom.Merge("ties", "https://arxiv.org/abs/2306.01708", "merge_method: ties\n", 42L), "test");
    }

    @Test
    void aMergedModelsBomIsSchemaValidCycloneDx16() throws Exception {
        String json = bom();
        assertEquals(List.of(), violations(json));
        JsonNode b = new ObjectMapper().readTree(json);
        assertEquals("CycloneDX", b.get("bomFormat").asText());
        assertEquals("1.6", b.get("specVersion").asText());
        JsonNode model = b.at("/metadata/component");
        assertEquals("machine-learning-model", model.get("type").asText());
        assertEquals("ab".repeat(32), model.at("/hashes/0/content").asText());
        assertEquals("SHA-256", model.at("/hashes/0/alg").asText());
        assertEquals("Apache-2.0 AND MIT", model.at("/licenses/0/expression").asText());
        JsonNode ancestors = model.at("/pedigree/ancestors");
        assertEquals(2, ancestors.size());
        assertEquals("cd".repeat(32), ancestors.at("/0/hashes/0/content").asText());
        assertEquals("pkg:huggingface/acme/base@0123456789abcdef0123456789abcdef01234567", ancestors.at("/0/purl").asText());
        assertTrue(model.at("/modelCard/properties").toString().contains("amalgam:merge.method"));
        assertTrue(model.at("/modelCard/properties").toString().contains("merge_method: ties"));
        assertEquals(2, b.get("components").size());
        assertEquals("file", b.at("/components/0/type").asText());
    }

    @Test
    void theSameFactsGiveTheSameBytes() {
        assertEquals(bom(), bom());
    }

    @Test
    void theValidatorRejectsABrokenBom() throws Exception {
        ObjectNode b = (ObjectNode) new ObjectMapper().readTree(bom());
        ((ObjectNode) b.at("/metadata/component")).put("type", "spaceship");
        ((ObjectNode) b.at("/metadata/component/hashes/0")).put("content", "not hex");
        assertFalse(violations(b.toString()).isEmpty());
    }
}
