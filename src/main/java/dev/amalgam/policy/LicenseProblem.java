package dev.amalgam.policy;

import java.util.Locale;

/**
 * Why a combination of licenses is not allowed.
 *
 * @param first the input (and its license) the problem is about, e.g. {@code base@1 (CC-BY-ND-4.0)}
 * @param second the other input of a conflicting pair, or null for a problem of one input alone
 */
public record LicenseProblem(Kind kind, String first, String second, String message) {

    /** The kinds of problem; {@link #id()} is the stable name used in decisions. */
    public enum Kind {
        UNKNOWN_LICENSE, NO_DERIVATIVES, NON_COMMERCIAL, REGION, USER_CAP,
        SHARE_ALIKE, OWN_LICENSE_ONLY, NAME_PREFIX, IMPROVE_OTHER_MODELS, NOT_ALLOWED;

        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public boolean isPair() {
        return second != null;
    }
}
