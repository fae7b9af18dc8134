package dev.amalgam.merge;

import java.util.List;

/** A recipe (or a merge it describes) is invalid; the message names the key, tensor or model. */
public class RecipeException extends IllegalArgumentException {
    private final List<String> problems;

    public RecipeException(String message) {
        super(message);
        this.problems = List.of(message);
    }

    public RecipeException(String source, List<String> problems) {
        super(source + ": " + (problems.size() == 1 ? problems.getFirst()
                : problems.size() + " problems:\n  - " + String.join("\n  - ", problems)));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
