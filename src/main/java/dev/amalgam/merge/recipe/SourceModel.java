package dev.amalgam.merge.recipe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.safetensors.SafetensorsModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** An opened input model: its reference as written in the recipe, folder, weights and config. */
public record SourceModel(String reference, Path dir, SafetensorsModel weights, ObjectNode config) implements AutoCloseable {

    public static SourceModel open(String reference, Path dir) throws IOException {
        Path cfg = dir.resolve("config.json");
        ObjectNode config = null;
        if (Files.isRegularFile(cfg)) {
            var node = new ObjectMapper().readTree(cfg.toFile());
            if (!(node instanceof ObjectNode o)) throw new RecipeException("model " + reference + ": config.json is not a JSON object");
            config = o;
        }
        return new SourceModel(reference, dir, SafetensorsModel.open(dir), config);
    }

    @Override
    public void close() {
        weights.close();
    }
}
