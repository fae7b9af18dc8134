package dev.amalgam.merge;

/**
 * A parameter a merge method declares: recipe validation, the docs table and the CLI help are
 * all derived from these declarations. {@code defaultValue} null with {@code required} false
 * means "absent unless given".
 */
public record ParameterDef(String name, Kind kind, boolean required, Object defaultValue, String description) {
    /** MODEL: a model reference (folder, {@code name@version}, {@code sha256:}) resolved and recorded like an input. */
    public enum Kind { NUMBER, BOOLEAN, MODEL }

    public static ParameterDef number(String name, Double defaultValue, String description) {
        return new ParameterDef(name, Kind.NUMBER, false, defaultValue, description);
    }

    public static ParameterDef requiredNumber(String name, String description) {
        return new ParameterDef(name, Kind.NUMBER, true, null, description);
    }

    public static ParameterDef bool(String name, boolean defaultValue, String description) {
        return new ParameterDef(name, Kind.BOOLEAN, false, defaultValue, description);
    }

    /** A required model reference: the folder it names is opened, hashed and recorded like an input model. */
    public static ParameterDef requiredModel(String name, String description) {
        return new ParameterDef(name, Kind.MODEL, true, null, description);
    }

    /** Checks one evaluated value against the kind; returns a problem or null. */
    String check(Object value) {
        return switch (kind) {
            case NUMBER -> value instanceof Double ? null : "must be a number, got " + describe(value);
            case BOOLEAN -> value instanceof Boolean ? null : "must be true or false, got " + describe(value);
            case MODEL -> value instanceof String str && !str.isBlank() ? null
                    : "must be a model reference (a folder, name@version or sha256:...), got " + describe(value);
        };
    }

    static String describe(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }
}
