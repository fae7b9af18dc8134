package dev.amalgam.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * An SPDX license expression as an immutable tree: a simple license (optionally "or later"),
 * a license WITH an exception, or an AND / OR of two expressions.
 * {@link #toString()} prints the canonical form: upper-case operators, single spaces and only
 * the parentheses the precedence (WITH &gt; AND &gt; OR) requires.
 */
public sealed interface LicenseExpression
        permits LicenseExpression.License, LicenseExpression.With, LicenseExpression.And, LicenseExpression.Or {

    /** Parses an expression; see {@link LicenseExpressionParser}. */
    static LicenseExpression parse(String text) {
        return LicenseExpressionParser.parse(text);
    }

    /** The AND of the given expressions, left-associated; at least one. */
    static LicenseExpression and(List<? extends LicenseExpression> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("AND of nothing");
        LicenseExpression result = parts.getFirst();
        for (int i = 1; i < parts.size(); i++) result = new And(result, parts.get(i));
        return result;
    }

    /** Every simple term (license or license WITH exception) in reading order. */
    default List<LicenseExpression> terms() {
        List<LicenseExpression> out = new ArrayList<>();
        collectTerms(this, out);
        return List.copyOf(out);
    }

    private static void collectTerms(LicenseExpression e, List<LicenseExpression> out) {
        switch (e) {
            case License l -> out.add(l);
            case With w -> out.add(w);
            case And a -> { collectTerms(a.left(), out); collectTerms(a.right(), out); }
            case Or o -> { collectTerms(o.left(), out); collectTerms(o.right(), out); }
        }
    }

    /**
     * A license identifier: an SPDX id or {@code LicenseRef-…}. {@code orLater} is the {@code +}
     * suffix. Ids compare case-insensitively per the SPDX specification.
     */
    record License(String id, boolean orLater) implements LicenseExpression {
        public License {
            Objects.requireNonNull(id, "id");
            if (id.isEmpty()) throw new IllegalArgumentException("empty license id");
        }

        public License(String id) {
            this(id, false);
        }

        public boolean isLicenseRef() {
            return id.regionMatches(true, 0, "LicenseRef-", 0, "LicenseRef-".length());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof License l && l.orLater == orLater && l.id.equalsIgnoreCase(id);
        }

        @Override
        public int hashCode() {
            return id.toLowerCase(Locale.ROOT).hashCode() * 31 + (orLater ? 1 : 0);
        }

        @Override
        public String toString() {
            return orLater ? id + "+" : id;
        }
    }

    /** A license with an SPDX license exception ({@code Apache-2.0 WITH LLVM-exception}). */
    record With(License license, String exception) implements LicenseExpression {
        public With {
            Objects.requireNonNull(license, "license");
            Objects.requireNonNull(exception, "exception");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof With w && w.license.equals(license) && w.exception.equalsIgnoreCase(exception);
        }

        @Override
        public int hashCode() {
            return license.hashCode() * 31 + exception.toLowerCase(Locale.ROOT).hashCode();
        }

        @Override
        public String toString() {
            return license + " WITH " + exception;
        }
    }

    /** Both licenses apply. */
    record And(LicenseExpression left, LicenseExpression right) implements LicenseExpression {
        public And {
            Objects.requireNonNull(left, "left");
            Objects.requireNonNull(right, "right");
        }

        @Override
        public String toString() {
            return wrapIfOr(left) + " AND " + wrapIfOr(right);
        }

        private static String wrapIfOr(LicenseExpression e) {
            return e instanceof Or ? "(" + e + ")" : e.toString();
        }
    }

    /** Either license may be chosen. */
    record Or(LicenseExpression left, LicenseExpression right) implements LicenseExpression {
        public Or {
            Objects.requireNonNull(left, "left");
            Objects.requireNonNull(right, "right");
        }

        @Override
        public String toString() {
            return left + " OR " + right;
        }
    }
}
