package dev.amalgam.merge.recipe;

import java.util.List;

/** A recipe (or a merge it describes) is invalid; the message names the key, tensor or model. */
public class RecipeException extends IllegalArgumentException {
    private final List<String> problems;

    public RecipeException(String message) {
        super(message);
        this.problems = List.of(message);
    }

    public RecipeException(String source, List<String> problems) {
        super(source + ": " + describe(problems));
        this.problems = List.copyOf(problems);
    }

    /** All problems, but at most 20 lines of them: the rest are counted, not printed. */
    private static String describe(List<String> problems) {
        if (problems.size() == 1) return problems.getFirst();
        List<String> shown = problems.size() > 20 ? problems.subList(0, 20) : problems;
        return problems.size() + " problems:\n  - " + String.join("\n  - ", shown)
                + (problems.size() > shown.size() ? "\n  ... and " + (problems.size() - shown.size()) + " more" : "");
    }

    public List<String> problems() {
        return problems;
    }
}
