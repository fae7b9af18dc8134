package dev.amalgam.merge;

import dev.amalgam.hub.HubCard;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.merge.recipe.RecipeYaml;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static dev.amalgam.hub.HubCardAssertions.assertValidHubCard;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The merge output's README.md and the front matter writer follow the Hub's card conventions. */
class ModelCardTest {
    @Test
    void aMergeCardNamesItsInputsAsHubIdsWithTheMergeRelation() {
        Recipe r = RecipeParser.parse("""
                merge_method: ties
                base_model: acme/base@0123456789abcdef0123456789abcdef01234567
                models:
                  - model: acme/base@0123456789abcdef0123456789abcdef01234567
                  - model: "weird: name #1"
                    parameters: {weight: 0.5, density: 0.5}
                  - model: hf://acme/chat@main
                    parameters: {weight: 0.5, density: 0.5}
                dtype: bfloat16
                """, null, "test.yml");
        String card = ModelCard.render(r, RecipeYaml.write(r, null));
        Map<String, Object> fm = assertValidHubCard(card);
        assertEquals(List.of("acme/base", "weird: name #1", "acme/chat"), fm.get("base_model"));
        assertEquals("merge", fm.get("base_model_relation"));
        assertEquals(List.of("merge", "amalgam"), fm.get("tags"));
        assertEquals("transformers", fm.get("library_name"));
        assertTrue(card.contains("`ties` (https://arxiv.org/"), card);
        assertTrue(card.contains("## Recipe\n\n```yaml\nmerge_method: ties"), card);
    }

    @Test
    void anExpressionIsWrittenAsOtherWithItsNameAndLink() {
        String fm = ModelCard.frontMatter(new ModelCard.FrontMatter(List.of("a/b"), "merge", "other",
                "Apache-2.0 AND LicenseRef-llama-3.1", "amalgam-release/LICENSES.md", ModelCard.MERGE_TAGS, "transformers"));
        Map<String, Object> m = assertValidHubCard(fm + "\nbody\n");
        assertEquals("Apache-2.0 AND LicenseRef-llama-3.1", m.get("license_name"));
        HubCard back = HubCard.parse((fm + "\n").getBytes(StandardCharsets.UTF_8));
        assertEquals("amalgam-release/LICENSES.md", back.licenseLink());
        assertEquals(List.of("a/b"), back.baseModels());
    }

    @Test
    void numbersAndBooleansStayStrings() {
        String fm = ModelCard.frontMatter(new ModelCard.FrontMatter(List.of("1.0", "true", "null"), null, "mit", null,
                null, List.of(), null));
        assertEquals(List.of("1.0", "true", "null"), assertValidHubCard(fm).get("base_model"));
    }
}
