package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.ArrayList;
import java.util.List;

/** The methods table of docs/recipes.md and {@code amalgam recipe methods}, derived from the declarations. */
public final class MethodTable {
    private MethodTable() {
    }

    public static String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("| method | base model | method-wide parameters (default) | per-model parameters (default) | reference | determinism |\n");
        b.append("|---|---|---|---|---|---|\n");
        for (MergeMethod m : MergeMethods.all()) {
            b.append("| `").append(m.name()).append("` | ").append(m.needsBaseModel() ? "required" : "optional")
                    .append(" | ").append(params(m.parameters())).append(" | ").append(params(m.tensorParameters()))
                    .append(" | ").append(m.reference()).append(" | ").append(m.determinism()).append(" |\n");
        }
        return b.toString();
    }

    private static String params(List<ParameterDef> defs) {
        if (defs.isEmpty()) return "—";
        List<String> out = new ArrayList<>();
        for (ParameterDef p : defs) {
            String d = p.required() ? "required" : p.defaultValue() == null ? "unset" : format(p.defaultValue());
            out.add("`" + p.name() + "` (" + d + ")");
        }
        return String.join(", ", out);
    }

    private static String format(Object v) {
        return v instanceof Double d && d == Math.rint(d) ? String.valueOf(d.longValue()) + ".0" : String.valueOf(v);
    }
}
