package dev.amalgam.merge;

import dev.amalgam.BuildInfo;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.merge.recipe.Recipe;

/** The output folder's README.md: Hub front matter naming every input, then the recipe. */
final class ModelCard {
    private ModelCard() {
    }

    static String render(Recipe recipe, String yaml) {
        StringBuilder b = new StringBuilder("---\nbase_model:\n");
        for (String m : RecipeModels.referenced(recipe)) b.append("- ").append(quote(m)).append('\n');
        b.append("base_model_relation: merge\ntags:\n- merge\n- amalgam\nlibrary_name: transformers\n---\n\n");
        b.append("# Merged model\n\n");
        b.append("Merged with Amalgam ").append(BuildInfo.current().version())
                .append(" using the `").append(recipe.mergeMethod()).append("` method");
        if (recipe.baseModel() != null) b.append(" with `").append(recipe.baseModel()).append("` as the base");
        b.append(".\n\n## Inputs\n\n");
        for (String m : RecipeModels.referenced(recipe)) b.append("- `").append(m).append("`\n");
        b.append("\n## Recipe\n\n```yaml\n").append(yaml).append("```\n");
        return b.toString();
    }

    /** YAML-safe scalar: quote anything beyond plain path characters. */
    private static String quote(String s) {
        return s.matches("[A-Za-z0-9_./@+-]+") && !s.startsWith("-") ? s : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
