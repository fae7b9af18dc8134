package dev.amalgam.hub;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model card front matter: the fields as the Hub types them, and every malformed card a clear error. */
class HubCardTest {
    private static HubCard parse(String s) {
        return HubCard.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String error(String s) {
        return assertThrows(HubException.class, () -> parse(s)).getMessage();
    }

    @Test
    void readsTheFieldsAmalgamActsOn() {
        HubCard c = parse("""
                ---
                license: other
                license_name: llama3.1
                license_link: https://example.org/LICENSE
                base_model:
                - meta-llama/Llama-3.1-8B
                base_model_relation: finetune
                tags: [text-generation, llama]
                datasets: acme/instructions
                library_name: transformers
                ---
                # A model
                """);
        assertEquals("other", c.license());
        assertEquals("llama3.1", c.licenseName());
        assertEquals("https://example.org/LICENSE", c.licenseLink());
        assertEquals(List.of("meta-llama/Llama-3.1-8B"), c.baseModels());
        assertEquals("finetune", c.baseModelRelation());
        assertEquals(List.of("text-generation", "llama"), c.tags());
        assertEquals(List.of("acme/instructions"), c.datasets());
        assertEquals("transformers", c.libraryName());
        assertTrue(c.hasFrontMatter());
    }

    @Test
    void baseModelMayBeOneStringAndLineEndingsMayBeWindows() {
        HubCard c = parse("\uFEFF---\r\nlicense: apache-2.0\r\nbase_model: acme/base\r\n---\r\nbody");
        assertEquals(List.of("acme/base"), c.baseModels());
        assertEquals("apache-2.0", c.license());
    }

    @Test
    void aCardWithoutFrontMatterIsEmpty() {
        HubCard c = parse("# Just a title\n---\nlicense: mit\n---\n");
        assertFalse(c.hasFrontMatter());
        assertNull(c.license());
    }

    @Test
    void malformedFrontMatterIsAClearError() {
        assertTrue(error("---\nlicense: mit\n").contains("not closed"));
        assertTrue(error("---\nlicense: [mit\n---\n").contains("not valid YAML"));
        assertTrue(error("---\n- a\n- b\n---\n").contains("must be a mapping"));
        assertTrue(error("---\nlicense: {id: mit}\n---\n").contains("license must be a string"));
        assertTrue(error("---\nbase_model: {a: b}\n---\n").contains("base_model must be a string or a list of strings"));
        assertTrue(error("---\ntags: [a, [b]]\n---\n").contains("every entry of tags must be a string"));
        assertTrue(error("---\nbase_model_relation: cousin\n---\n").contains("base_model_relation 'cousin'"));
        assertTrue(error("---\nlicense: mit\nlicense: apache-2.0\n---\n").contains("not valid YAML"));
    }

    @Test
    void hostileYamlIsBounded() {
        StringBuilder bomb = new StringBuilder("---\na: &a [x, x, x, x, x, x, x, x, x]\n");
        for (char c = 'b'; c <= 'k'; c++) {
            char p = (char) (c - 1);
            bomb.append(c).append(": &").append(c).append(" [*").append(p).append(", *").append(p).append(", *")
                    .append(p).append(", *").append(p).append("]\n");
        }
        bomb.append("---\n");
        // Jackson's YAML parser never expands aliases (each stays a reference), so a billion-laughs card stays small
        assertTrue(parse(bomb.toString()).hasFrontMatter());
        String deep = "---\nx: " + "[".repeat(100) + "]".repeat(100) + "\n---\n";
        assertTrue(error(deep).contains("deeper than"));
        String deeper = "---\nx: " + "[".repeat(30_000) + "\n---\n";
        assertTrue(error(deeper).contains("not valid YAML"));
        String huge = "---\nlicense: mit\n" + "# filler\n".repeat(HubCard.MAX_FRONT_MATTER_BYTES / 9 + 10) + "---\n";
        assertTrue(error(huge).contains("longer than"));
        assertTrue(assertThrows(HubException.class, () -> HubCard.parse(new byte[HubCard.MAX_CARD_BYTES + 1]))
                .getMessage().contains("larger than"));
    }

    @Test
    void configJsonIsReadAndCheckedForTypes() {
        HubConfig c = HubConfig.parse("{\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"],\"torch_dtype\":\"bfloat16\"}"
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("llama", c.modelType());
        assertEquals(List.of("LlamaForCausalLM"), c.architectures());
        assertThrows(HubException.class, () -> HubConfig.parse("{".getBytes(StandardCharsets.UTF_8)));
        assertThrows(HubException.class, () -> HubConfig.parse("[]".getBytes(StandardCharsets.UTF_8)));
        assertThrows(HubException.class, () -> HubConfig.parse("{\"architectures\":\"x\"}".getBytes(StandardCharsets.UTF_8)));
    }
}
