package dev.amalgam.merge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.amalgam.BuildInfo;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.merge.recipe.Recipe;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Model cards in the Hugging Face Hub's conventions: YAML front matter ({@code base_model},
 * {@code base_model_relation}, {@code license} or {@code other} with {@code license_name} and
 * {@code license_link}, {@code tags}, {@code library_name}) written by a YAML library, then the body.
 * The merge engine writes the output folder's README.md with it; the registry its release card.
 */
public final class ModelCard {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));
    /** A Hub repository id with an optional revision: the Hub's base_model takes the id alone. */
    private static final Pattern HUB_ID = Pattern.compile("(?:hf://)?([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)(?:@[A-Za-z0-9._-]+)?");
    /** Tags every card of a merge carries. */
    public static final List<String> MERGE_TAGS = List.of("merge", "amalgam");

    /**
     * The front matter fields; null or empty ones are left out. {@code license} is a Hub license id,
     * or {@code other} with {@code licenseName} (an id or an SPDX expression) and {@code licenseLink}.
     */
    public record FrontMatter(List<String> baseModels, String relation, String license, String licenseName,
                              String licenseLink, List<String> tags, String libraryName) {
        public FrontMatter {
            baseModels = baseModels == null ? List.of() : List.copyOf(baseModels);
            tags = tags == null ? List.of() : List.copyOf(tags);
        }
    }

    private ModelCard() {
    }

    /** The front matter block, {@code ---} lines included. */
    public static String frontMatter(FrontMatter f) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (!f.baseModels().isEmpty()) m.put("base_model", f.baseModels());
        if (f.relation() != null) m.put("base_model_relation", f.relation());
        if (f.license() != null) m.put("license", f.license());
        if (f.licenseName() != null) m.put("license_name", f.licenseName());
        if (f.licenseLink() != null) m.put("license_link", f.licenseLink());
        if (!f.tags().isEmpty()) m.put("tags", f.tags());
        if (f.libraryName() != null) m.put("library_name", f.libraryName());
        try {
            return "---\n" + YAML.writeValueAsString(m) + "---\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How the Hub names a model in base_model: {@code ORG/NAME} for a Hub id (its revision dropped), else the name as given. */
    public static String hubBaseModel(String ref) {
        var m = HUB_ID.matcher(ref);
        return m.matches() ? m.group(1) : ref;
    }

    /** "`method` ([paper](url))" for the card's body. */
    public static String methodReference(String method) {
        return MergeMethods.find(method).map(m -> "`" + method + "` (" + m.reference() + ")").orElse("`" + method + "`");
    }

    /** The output folder's README.md: front matter naming every input, then the method and recipe. */
    static String render(Recipe recipe, String yaml) {
        List<String> bases = new ArrayList<>();
        for (String m : RecipeModels.referenced(recipe)) {
            String b = hubBaseModel(m);
            if (!bases.contains(b)) bases.add(b);
        }
        StringBuilder b = new StringBuilder(frontMatter(new FrontMatter(bases, "merge", null, null, null, MERGE_TAGS,
                "transformers")));
        b.append("\n# Merged model\n\n");
        b.append("Merged with Amalgam ").append(BuildInfo.current().version())
                .append(" using the ").append(methodReference(recipe.mergeMethod())).append(" method");
        if (recipe.baseModel() != null) b.append(" with `").append(recipe.baseModel()).append("` as the base");
        b.append(".\n\n## Inputs\n\n");
        for (String m : RecipeModels.referenced(recipe)) b.append("- `").append(m).append("`\n");
        b.append("\n## Recipe\n\n```yaml\n").append(yaml).append("```\n");
        return b.toString();
    }
}
