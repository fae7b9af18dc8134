package dev.amalgam.policy;

import java.util.Objects;

/**
 * The license of one input of a merge (or of the model itself).
 *
 * @param name how to name the input in reasons, e.g. {@code llama-3.1-8b@1} or a digest
 */
public record LicenseInput(String name, LicenseExpression expression) {
    public LicenseInput {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(expression, "expression");
    }

    /** Parses {@code expression}; throws {@link LicenseExpressionException} if it does not parse. */
    public static LicenseInput of(String name, String expression) {
        return new LicenseInput(name, LicenseExpressionParser.parse(expression));
    }
}
