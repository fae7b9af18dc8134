package dev.amalgam.hub;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks a card's front matter the way the Hub reads it, with a second YAML parser (SnakeYAML's
 * safe loader) besides our own: a mapping of known keys, each of the type the Hub's model card
 * metadata expects, and the same values through {@link HubCard}.
 */
public final class HubCardAssertions {
    private static final Set<String> KNOWN = Set.of("base_model", "base_model_relation", "license", "license_name",
            "license_link", "tags", "library_name", "datasets", "language", "pipeline_tag");

    private HubCardAssertions() {
    }

    /** The parsed front matter, after every check passed. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> assertValidHubCard(String card) {
        assertTrue(card.startsWith("---\n"), "a Hub card starts with its front matter");
        String yaml = HubCard.frontMatter(card);
        assertNotNull(yaml, "front matter is closed");
        Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        Map<String, Object> m = (Map<String, Object>) assertInstanceOf(Map.class, root);
        for (String k : m.keySet()) assertTrue(KNOWN.contains(k), "unknown front matter key " + k);
        for (String k : List.of("base_model_relation", "license", "license_name", "license_link", "library_name")) {
            if (m.containsKey(k)) assertInstanceOf(String.class, m.get(k), k + " is a string");
        }
        for (String k : List.of("base_model", "tags", "datasets")) {
            if (m.containsKey(k)) {
                Object v = m.get(k);
                if (!(v instanceof String)) {
                    for (Object e : assertInstanceOf(List.class, v, k + " is a string or a list")) {
                        assertInstanceOf(String.class, e, k + " entries are strings");
                    }
                }
            }
        }
        if ("other".equals(m.get("license"))) {
            assertTrue(m.containsKey("license_name") && m.containsKey("license_link"),
                    "license: other comes with license_name and license_link");
        }
        if (m.containsKey("base_model_relation")) {
            assertTrue(HubCard.RELATIONS.contains((String) m.get("base_model_relation")));
            assertTrue(m.containsKey("base_model"), "a relation needs base_model");
        }
        HubCard ours = HubCard.parse(card.getBytes(StandardCharsets.UTF_8));
        assertEquals(m.get("license"), ours.license());
        assertEquals(m.get("base_model_relation"), ours.baseModelRelation());
        return m;
    }
}
