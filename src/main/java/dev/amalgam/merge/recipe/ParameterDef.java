package dev.amalgam.merge.recipe;

/**
 * A parameter a merge method declares: recipe validation, the docs table and the CLI help are
 * all derived from these declarations. {@code defaultValue} null with {@code required} false
 * means "absent unless given".
 */
public record ParameterDef(String name, Kind kind, boolean required, Object defaultValue, String description,
                           Range range) {
    /**
     * The values a numeric parameter accepts, checked when a recipe is submitted so that a merge
     * never fails at run time on a value it could have refused at the door. Every number must be
     * finite ({@code 1e999} reads as infinity); {@code whole} asks for an integer.
     */
    public record Range(double min, double max, boolean whole) {
        public static final Range ANY = new Range(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, false);

        String check(double v) {
            if (!Double.isFinite(v)) return "must be a finite number, got " + v;
            if (v < min || v > max) {
                return "must be " + (max == Double.POSITIVE_INFINITY ? ">= " + fmt(min)
                        : "between " + fmt(min) + " and " + fmt(max)) + ", got " + fmt(v);
            }
            if (whole && v != Math.rint(v)) return "must be a whole number, got " + fmt(v);
            return null;
        }

        private static String fmt(double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
        }
    }

    /** This parameter accepting only values from {@code min} to {@code max} (inclusive). */
    public ParameterDef between(double min, double max) {
        return new ParameterDef(name, kind, required, defaultValue, description, new Range(min, max, range.whole()));
    }

    /** This parameter accepting only values of at least {@code min}. */
    public ParameterDef atLeast(double min) {
        return between(min, Double.POSITIVE_INFINITY);
    }

    /** This parameter accepting only whole numbers. */
    public ParameterDef wholeNumber() {
        return new ParameterDef(name, kind, required, defaultValue, description, new Range(range.min(), range.max(), true));
    }

    /** MODEL: a model reference (folder, {@code name@version}, {@code sha256:}) resolved and recorded like an input. */
    public enum Kind { NUMBER, BOOLEAN, MODEL }

    public static ParameterDef number(String name, Double defaultValue, String description) {
        return new ParameterDef(name, Kind.NUMBER, false, defaultValue, description, Range.ANY);
    }

    public static ParameterDef requiredNumber(String name, String description) {
        return new ParameterDef(name, Kind.NUMBER, true, null, description, Range.ANY);
    }

    public static ParameterDef bool(String name, boolean defaultValue, String description) {
        return new ParameterDef(name, Kind.BOOLEAN, false, defaultValue, description, Range.ANY);
    }

    /** A required model reference: the folder it names is opened, hashed and recorded like an input model. */
    public static ParameterDef requiredModel(String name, String description) {
        return new ParameterDef(name, Kind.MODEL, true, null, description, Range.ANY);
    }

    /** Checks one evaluated value against the kind; returns a problem or null. */
    public String check(Object value) {
        return switch (kind) {
            case NUMBER -> value instanceof Double d ? range.check(d) : "must be a number, got " + describe(value);
            case BOOLEAN -> value instanceof Boolean ? null : "must be true or false, got " + describe(value);
            case MODEL -> value instanceof String str && !str.isBlank() ? null
                    : "must be a model reference (a folder, name@version or sha256:...), got " + describe(value);
        };
    }

    public static String describe(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }
}
