package dev.amalgam.merge.recipe;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A parsed mergekit recipe. Exactly one of {@code models} and {@code slices} is non-empty.
 * {@code folder} is where relative model paths resolve (the recipe file's folder).
 */
public record Recipe(
        String mergeMethod,
        String baseModel,
        List<InputModel> models,
        List<OutputSlice> slices,
        Map<String, ParameterSetting> parameters,
        String dtype,
        String outDtype,
        String tokenizerSource,
        TokenizerSpec tokenizer,
        String chatTemplate,
        Long randomSeed,
        Path folder,
        String source) {

    /** An entry of {@code models:}. */
    public record InputModel(String model, Map<String, ParameterSetting> parameters) {
    }

    /** An entry of {@code slices:}: sources merged layer by layer. */
    public record OutputSlice(List<InputSlice> sources, String baseModel, Double residualWeight,
                              Map<String, ParameterSetting> parameters) {
        public int layerCount() {
            return sources.getFirst().end() - sources.getFirst().start();
        }
    }

    /** A source of a slice: layers [start, end) of one model. */
    public record InputSlice(String model, int start, int end, Map<String, ParameterSetting> parameters) {
    }

    /**
     * The tokenizer settings in effect ({@code tokenizer:} or the legacy {@code tokenizer_source:}),
     * or null when neither is given: the base model's tokenizer files are then copied as they are
     * and embeddings of differing vocabularies are cut to their common rows.
     */
    public TokenizerSpec effectiveTokenizer() {
        if (tokenizer != null) return tokenizer;
        if (tokenizerSource != null) return new TokenizerSpec(tokenizerSource, Map.of(), null);
        return null;
    }

    /**
     * Every model whose weights the recipe uses, base first, without duplicates, in order of
     * appearance. The folders named by the method's model-reference parameters (DAM's
     * {@code coefficients}) are not listed here: which parameters name models is the method's
     * declaration, so {@code RecipeModels.referenced(recipe)} adds them.
     */
    public List<String> mergedModels() {
        var out = new java.util.LinkedHashSet<String>();
        if (baseModel != null) out.add(baseModel);
        for (InputModel m : models) out.add(m.model());
        for (OutputSlice s : slices) {
            if (s.baseModel() != null) out.add(s.baseModel());
            for (InputSlice src : s.sources()) out.add(src.model());
        }
        return List.copyOf(out);
    }
}
