package dev.amalgam.policy;

import java.util.List;
import java.util.Optional;

/**
 * The outcome of combining the licenses of a merge's inputs for a target environment.
 *
 * @param expression the AND of the chosen license terms (empty when there was no input)
 * @param choices one entry per input whose expression had OR branches
 * @param problems empty exactly when {@link #allowed()}
 * @param reasons human-readable account of how the result came about, problems included
 */
public record LicenseCombination(boolean allowed, Optional<LicenseExpression> expression, List<OrChoice> choices,
                                 Obligations obligations, List<LicenseProblem> problems, List<String> reasons) {
    public LicenseCombination {
        choices = List.copyOf(choices);
        problems = List.copyOf(problems);
        reasons = List.copyOf(reasons);
    }

    /** The computed expression in canonical form, or {@code NONE} when there was no input. */
    public String expressionText() {
        return expression.map(Object::toString).orElse("NONE");
    }
}
