package dev.amalgam.policy;

import java.util.Locale;
import java.util.Optional;

/**
 * How one rule came out.
 *
 * @param exception the exception that turned a failure into {@link Result#EXCEPTED}, if any
 */
public record RuleResult(String id, RuleType type, ReleaseRule.Mode mode, Result result, String message,
                         Optional<Exemption> exception) {

    /**
     * PASS: the rule holds. FAIL: it does not and the rule enforces (denies). WARN: it does not
     * but the rule only warns. EXCEPTED: it does not, but a valid exception covers it.
     */
    public enum Result {
        PASS, FAIL, WARN, EXCEPTED;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
