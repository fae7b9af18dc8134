package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.merge.recipe.ParameterSetting;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.TokenizerSpec;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The models a recipe names, by role: which parameters name folders (DAM's {@code coefficients})
 * is the method's declaration, so this lives beside the methods and not in the recipe.
 */
public final class RecipeModels {
    private RecipeModels() {
    }

    /**
     * Every model whose weights the recipe uses ({@link Recipe#mergedModels()}), then the folders
     * named by the method's model-reference parameters (DAM's {@code coefficients}), so they are
     * resolved, hashed and recorded like models ({@code tokenizer_source} only lends its tokenizer
     * files and is not listed).
     */
    public static List<String> referenced(Recipe recipe) {
        var out = new LinkedHashSet<>(recipe.mergedModels());
        out.addAll(parameterModels(recipe));
        return List.copyOf(out);
    }

    /** The referenced models that are merged, not only named by a method parameter. */
    public static List<String> merged(Recipe recipe) {
        List<String> refs = new ArrayList<>(referenced(recipe));
        refs.removeAll(parameterModels(recipe));
        return refs;
    }

    /** Values of the method's top-level model-reference parameters (none for unknown methods). */
    public static List<String> parameterModels(Recipe recipe) {
        var out = new ArrayList<String>();
        MergeMethods.find(recipe.mergeMethod()).ifPresent(m -> {
            for (ParameterDef p : m.parameters()) {
                if (p.kind() == ParameterDef.Kind.MODEL
                        && recipe.parameters().get(p.name()) instanceof ParameterSetting.Scalar s
                        && s.value() instanceof String ref) {
                    out.add(ref);
                }
            }
        });
        return List.copyOf(out);
    }

    /**
     * The model whose tokenizer the output takes ({@code tokenizer_source: model} or
     * {@code tokenizer.source}) when it is not one of {@link #referenced(Recipe)}, or null: its
     * files end up in the output, so the registry records it (role {@code tokenizer}).
     */
    public static String tokenizerModel(Recipe recipe) {
        TokenizerSpec t = recipe.effectiveTokenizer();
        if (t == null || t.model() == null || referenced(recipe).contains(t.model())) return null;
        return t.model();
    }
}
