package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.SourceModel;

import java.util.List;
import java.util.Map;

/**
 * One merge method: its declarations (name, parameters with defaults, paper) and its math over
 * one output tensor. Adding a method is one class plus one line in {@link MergeMethods}.
 */
public interface MergeMethod {
    String name();

    /** Paper or reference for the docs table. */
    String reference();

    /** Method-wide parameters (top-level or slice {@code parameters:}). */
    List<ParameterDef> parameters();

    /** Per-model parameters (may also be set globally as a fallback, as in mergekit). */
    List<ParameterDef> tensorParameters();

    default boolean needsBaseModel() {
        return false;
    }

    /** How the result stays reproducible; for the docs table. */
    default String determinism() {
        return "elementwise, fixed input order";
    }

    /** Checks the number of inputs of a slice; returns a problem or null. */
    default String checkInputCount(int inputs, boolean hasBase) {
        return null;
    }

    /** Method-specific rules on the whole recipe (beyond its parameter declarations); problems or an empty list. */
    default List<String> checkRecipe(Recipe recipe) {
        return List.of();
    }

    /**
     * True when each output element depends only on the same element of the inputs (no norms,
     * no selection, no randomness keyed by position): the executor may then split a big tensor
     * into parts computed in parallel. A method whose math depends on the element's position
     * (DAM's per-column coefficients) may still be elementwise: it reads the part's position
     * from {@link TensorContext#offset()} and the tensor's shape from {@link TensorContext#shape()}.
     */
    default boolean elementwise(Map<String, Object> globals) {
        return false;
    }

    /**
     * A problem with the opened inputs of one planned tensor that the plan alone does not show
     * (e.g. dam's coefficient shapes), or null; asked for every tensor that is merged, not copied,
     * before any is computed. {@code models} holds every referenced folder.
     */
    default String checkTensor(PlannedTensor tensor, Map<String, SourceModel> models) {
        return null;
    }

    /** Computes the output tensor chunk by chunk through {@code ctx}. */
    void merge(TensorContext ctx);
}
