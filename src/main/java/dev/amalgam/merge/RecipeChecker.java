package dev.amalgam.merge;

import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.merge.recipe.ParameterSetting;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.TokenizerSpec;
import dev.amalgam.safetensors.DType;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validates a recipe's semantics without opening any model, generically over the methods'
 * parameter declarations: known method, known parameters at the right level, value kinds,
 * required parameters present, base model where the method needs one, slice shapes, dtypes.
 */
public final class RecipeChecker {
    /** Problems make the recipe unusable; notes are worth telling the user. */
    public record Result(List<String> problems, List<String> notes) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private RecipeChecker() {
    }

    /** Token embedding sources must be models of the merge (mergekit asserts the same). */
    private static void checkTokenizer(Recipe r, List<String> problems) {
        TokenizerSpec t = r.effectiveTokenizer();
        if (t == null) return;
        var models = RecipeModels.referenced(r);
        t.tokens().forEach((token, e) -> {
            if (e.model() != null && !models.contains(e.model())) {
                problems.add("tokenizer.tokens." + token + ": model " + e.model() + " is not one of the merged models " + models);
            }
        });
    }

    public static Result check(Recipe r) {
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (String key : new String[]{"dtype", "out_dtype"}) {
            String v = key.equals("dtype") ? r.dtype() : r.outDtype();
            if (v != null && DType.fromTorchName(v).isEmpty()) {
                problems.add(key + ": unsupported dtype \"" + v + "\" (bfloat16, float16 or float32)");
            }
        }
        checkTokenizer(r, problems);

        var method = MergeMethods.find(r.mergeMethod());
        if (method.isEmpty()) {
            problems.add("merge_method: unknown method \"" + r.mergeMethod() + "\" (known: "
                    + String.join(", ", MergeMethods.all().stream().map(MergeMethod::name).toList()) + ")");
            checkSlices(r, problems);
            return new Result(List.copyOf(problems), List.copyOf(notes));
        }
        MergeMethod m = method.get();
        Map<String, ParameterDef> global = new java.util.LinkedHashMap<>();
        Map<String, ParameterDef> perModel = new java.util.LinkedHashMap<>();
        for (ParameterDef p : m.parameters()) global.put(p.name(), p);
        for (ParameterDef p : m.tensorParameters()) perModel.put(p.name(), p);

        checkParams("parameters", r.parameters(), global, perModel, true, m, problems);
        for (int i = 0; i < r.models().size(); i++) {
            checkParams("models[" + i + "].parameters", r.models().get(i).parameters(), global, perModel, false, m, problems);
        }
        for (int s = 0; s < r.slices().size(); s++) {
            var slice = r.slices().get(s);
            checkParams("slices[" + s + "].parameters", slice.parameters(), global, perModel, true, m, problems);
            for (int i = 0; i < slice.sources().size(); i++) {
                checkParams("slices[" + s + "].sources[" + i + "].parameters", slice.sources().get(i).parameters(),
                        global, perModel, false, m, problems);
            }
            if (slice.residualWeight() != null) problems.add("slices[" + s + "].residual_weight: not supported");
        }
        checkSlices(r, problems);
        for (ParameterDef p : m.parameters()) {
            if (p.kind() != ParameterDef.Kind.MODEL) continue;
            // one reference for the whole recipe: that is what referencedModels() records
            var v = r.parameters().get(p.name());
            if (v != null && !(v instanceof ParameterSetting.Scalar)) {
                problems.add("parameters." + p.name() + ": a model reference must be a single value (no lists or conditions)");
            }
            for (int s = 0; s < r.slices().size(); s++) {
                if (r.slices().get(s).parameters().containsKey(p.name())) {
                    problems.add("slices[" + s + "].parameters." + p.name() + ": set it once under the top-level parameters");
                }
            }
        }
        problems.addAll(m.checkRecipe(r));

        boolean hasBase = r.baseModel() != null;
        if (m.needsBaseModel() && !hasBase) {
            for (int s = 0; s < Math.max(1, r.slices().size()); s++) {
                if (r.slices().isEmpty() || r.slices().get(s).baseModel() == null) {
                    problems.add("base_model: " + m.name() + " needs a base_model");
                    break;
                }
            }
        }
        // required parameters: method-wide ones must be set at the top or in every slice;
        // per-model ones for every non-base model, in any of the places mergekit looks
        for (ParameterDef p : global.values()) {
            if (p.required() && !r.parameters().containsKey(p.name())
                    && (r.slices().isEmpty() || r.slices().stream().anyMatch(s -> !s.parameters().containsKey(p.name())))) {
                problems.add("parameters." + p.name() + ": required by " + m.name());
            }
        }
        for (ParameterDef p : perModel.values()) {
            if (!p.required() || r.parameters().containsKey(p.name())) continue;
            for (int i = 0; i < r.models().size(); i++) {
                var im = r.models().get(i);
                if (!im.model().equals(r.baseModel()) && !im.parameters().containsKey(p.name())) {
                    problems.add("models[" + i + "] (" + im.model() + "): parameter '" + p.name() + "' is required by " + m.name());
                }
            }
            for (int s = 0; s < r.slices().size(); s++) {
                var slice = r.slices().get(s);
                if (slice.parameters().containsKey(p.name())) continue;
                String base = slice.baseModel() != null ? slice.baseModel() : r.baseModel();
                for (int i = 0; i < slice.sources().size(); i++) {
                    var src = slice.sources().get(i);
                    if (!src.model().equals(base) && !src.parameters().containsKey(p.name())) {
                        problems.add("slices[" + s + "].sources[" + i + "] (" + src.model() + "): parameter '"
                                + p.name() + "' is required by " + m.name());
                    }
                }
            }
        }
        // input counts per output slice, as the planner will see them
        if (!r.models().isEmpty()) {
            Set<String> names = new HashSet<>();
            for (var im : r.models()) names.add(im.model());
            if (hasBase) names.add(r.baseModel());
            String c = m.checkInputCount(names.size(), hasBase);
            if (c != null) problems.add(c);
        }
        for (int s = 0; s < r.slices().size(); s++) {
            var slice = r.slices().get(s);
            String c = m.checkInputCount(slice.sources().size(), hasBase || slice.baseModel() != null);
            if (c != null) problems.add("slices[" + s + "]: " + c);
            String base = slice.baseModel() != null ? slice.baseModel() : r.baseModel();
            if (m.needsBaseModel() && base != null && slice.sources().size() > 1
                    && slice.sources().stream().noneMatch(src -> src.model().equals(base))) {
                problems.add("slices[" + s + "]: base model " + base + " is not among the slice's sources");
            }
        }
        return new Result(List.copyOf(problems), List.copyOf(notes));
    }

    private static void checkSlices(Recipe r, List<String> problems) {
        for (int s = 0; s < r.slices().size(); s++) {
            var sources = r.slices().get(s).sources();
            int len = sources.getFirst().end() - sources.getFirst().start();
            for (int i = 1; i < sources.size(); i++) {
                var src = sources.get(i);
                if (src.end() - src.start() != len) {
                    problems.add("slices[" + s + "].sources[" + i + "].layer_range: " + (src.end() - src.start())
                            + " layers, but sources[0] has " + len + " (all sources of a slice need the same count)");
                }
            }
        }
    }

    private static void checkParams(String path, Map<String, ParameterSetting> params, Map<String, ParameterDef> global,
                                    Map<String, ParameterDef> perModel, boolean globalLevel, MergeMethod m,
                                    List<String> problems) {
        for (var e : params.entrySet()) {
            String name = e.getKey();
            ParameterDef def = perModel.get(name);
            if (def == null && global.containsKey(name)) {
                if (!globalLevel) {
                    problems.add(path + "." + name + ": '" + name + "' is a method-wide parameter of " + m.name()
                            + "; set it under the top-level (or slice) parameters");
                    continue;
                }
                def = global.get(name);
            }
            if (def == null) {
                var known = new ArrayList<>(global.keySet());
                known.addAll(perModel.keySet());
                problems.add(path + "." + name + ": unknown parameter for " + m.name()
                        + (known.isEmpty() ? " (it takes none)" : " (known: " + String.join(", ", known) + ")"));
                continue;
            }
            String problem = checkValue(def, e.getValue());
            if (problem != null) problems.add(path + "." + name + ": " + problem);
        }
    }

    private static String checkValue(ParameterDef def, ParameterSetting s) {
        return switch (s) {
            case ParameterSetting.Scalar sc -> def.check(sc.value());
            case ParameterSetting.Gradient g -> {
                if (def.kind() != ParameterDef.Kind.NUMBER) yield "a gradient (list of numbers) is only allowed for numeric parameters";
                for (Double v : g.points()) {
                    String p = def.check(v);
                    if (p != null) yield "gradient point " + p;
                }
                yield null;
            }
            case ParameterSetting.Steps st -> {
                for (Object v : st.values()) {
                    String p = def.check(v);
                    if (p != null) yield p;
                }
                yield null;
            }
            case ParameterSetting.Conditional c -> {
                for (var cond : c.conditions()) {
                    String p = checkValue(def, cond.value());
                    if (p != null) yield (cond.filter() == null ? "" : "filter " + cond.filter() + ": ") + p;
                }
                yield null;
            }
        };
    }
}
