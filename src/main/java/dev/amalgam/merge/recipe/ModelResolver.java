package dev.amalgam.merge.recipe;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Turns a recipe's model reference into a local model folder. Offline merges resolve paths;
 * the registry plugs in {@code name@version} and {@code sha256:} references here.
 */
@FunctionalInterface
public interface ModelResolver {
    Path resolve(String reference, Path recipeFolder) throws IOException;

    /** Local folders: absolute, or relative to the recipe's folder. */
    static ModelResolver local() {
        return (reference, recipeFolder) -> {
            Path p = Path.of(reference);
            Path dir = p.isAbsolute() || recipeFolder == null ? p : recipeFolder.resolve(p);
            dir = dir.normalize();
            if (!java.nio.file.Files.isDirectory(dir)) {
                throw new java.nio.file.NoSuchFileException("model " + reference + ": no folder at " + dir);
            }
            return dir;
        };
    }
}
