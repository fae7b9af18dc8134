package dev.amalgam.merge;

import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;

import java.nio.file.Path;

/**
 * One merge for {@link MergeEngine#run}: the recipe, where its models come from, the output
 * folder, options and a progress listener. {@code partElements} (elements per part of a split
 * tensor) and {@code stream} (positional reads instead of the mappings) only change how the engine
 * works, never the bytes it writes; tests set them to prove that.
 */
public record MergeRequest(Recipe recipe, ModelResolver resolver, Path out, MergeOptions options,
                           ProgressListener progress, long partElements, boolean stream) {

    /** A merge with the engine's own part size and read mode. */
    public MergeRequest(Recipe recipe, ModelResolver resolver, Path out, MergeOptions options, ProgressListener progress) {
        this(recipe, resolver, out, options, progress, MergeEngine.PART, MergeEngine.STREAM);
    }

    /** With default options and no progress reports. */
    public static MergeRequest of(Recipe recipe, ModelResolver resolver, Path out) {
        return new MergeRequest(recipe, resolver, out, MergeOptions.defaults(), ProgressListener.NONE);
    }

    public MergeRequest withPartElements(long elements) {
        return new MergeRequest(recipe, resolver, out, options, progress, elements, stream);
    }

    public MergeRequest withStream(boolean positionalReads) {
        return new MergeRequest(recipe, resolver, out, options, progress, partElements, positionalReads);
    }
}
