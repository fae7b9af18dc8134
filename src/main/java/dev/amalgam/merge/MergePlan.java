package dev.amalgam.merge;

import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.PlannedTensor;
import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.SourceModel;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.TensorInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every output tensor with its inputs and evaluated parameters, following mergekit's planner:
 * {@code models:} becomes one slice over all layers (the base model added when absent);
 * non-layer tensors before the layers take the first slice's sources, those after the last
 * slice's, both at t = 0; layer i of a slice of n layers has t = i / (n − 1) (1 when n = 1);
 * output layers are numbered consecutively across slices. Parameter lookup order: the source
 * model's parameters, the slice's, the top level's, then the method default; a filter matches
 * when it is a substring of the tensor name (the input's name for per-model parameters).
 */
public record MergePlan(MergeMethod method, Architecture architecture, SourceModel reference,
                        List<Planned> tensors, int outputLayers, String baseModel) {

    /**
     * One output tensor. {@code shape} is the output shape: the inputs' shape, or for
     * embeddings whose vocabulary sizes differ the common leading rows (mergekit's "common
     * submatrix"); inputs are then read up to that many rows. {@code inputDtype} is the recipe's
     * {@code dtype}, which every float input is rounded to before merging, as in mergekit (null
     * without one: inputs are read as stored); {@code outDtype} is {@code out_dtype}, else
     * {@code dtype}, else the first input's.
     */
    public record Planned(String name, List<PlannedInput> inputs, Map<String, Object> globals, DType outDtype,
                          boolean copyRaw, long[] shape, DType inputDtype, int roundedInputs) {
    }

    /** How many input tensors of the whole plan are rounded to the recipe's dtype (stored in a wider or other type). */
    public int roundedInputs() {
        int n = 0;
        for (Planned p : tensors) n += p.roundedInputs();
        return n;
    }

    /** How many input tensors the plan reads. */
    public int inputTensors() {
        int n = 0;
        for (Planned p : tensors) n += p.inputs().size();
        return n;
    }

    /** One input of an output tensor; {@code position} as {@link TensorContext.Input#position()}. */
    public record PlannedInput(String model, String tensor, boolean isBase, Map<String, Object> params, int position) {
        TensorInfo info(Map<String, SourceModel> models) {
            return models.get(model).weights().info(tensor);
        }
    }

    /**
     * Problems the method finds with the opened inputs of the tensors it merges (tensors copied
     * raw are not asked about), in plan order, before any tensor is computed.
     */
    public List<String> checkTensors(Map<String, SourceModel> models) {
        List<String> problems = new ArrayList<>();
        for (Planned p : tensors) {
            if (p.copyRaw()) continue;
            String problem = method.checkTensor(new PlannedTensor(p.name(), p.shape(), p.inputs().size(), p.globals()), models);
            if (problem != null) problems.add(problem);
        }
        return problems;
    }

    /** Builds the plan, collecting every problem (missing tensors, shape or dtype mismatches) before failing. */
    public static MergePlan build(Recipe recipe, Map<String, SourceModel> models) {
        return build(recipe, models, null);
    }

    /**
     * As {@link #build(Recipe, Map)}, with the embedding tensors given {@code vocabRows} rows
     * (the output vocabulary of a tokenizer setting; null: their common leading rows).
     */
    static MergePlan build(Recipe recipe, Map<String, SourceModel> models, Integer vocabRows) {
        MergeMethod method = MergeMethods.find(recipe.mergeMethod()).orElseThrow(() -> new RecipeException(
                "merge_method " + recipe.mergeMethod() + " is not implemented by this engine"));
        return new Planner(recipe, method, models, vocabRows).plan();
    }

    /** A layer tensor's name around its index: {@code model.layers.} + i + {@code .mlp.up_proj.weight}. */
    private record LayerName(String prefix, String suffix) {
        String at(int layer) {
            return prefix + layer + "." + suffix;
        }
    }

    private static final class Planner {
        final Recipe recipe;
        final MergeMethod method;
        final Map<String, SourceModel> models;
        final List<String> problems = new ArrayList<>();
        final List<Planned> out = new ArrayList<>();
        final DType forcedDtype;
        final DType inputDtype;
        final Integer vocabRows;
        Architecture arch;

        Planner(Recipe recipe, MergeMethod method, Map<String, SourceModel> models, Integer vocabRows) {
            this.vocabRows = vocabRows;
            this.recipe = recipe;
            this.method = method;
            this.models = models;
            String d = recipe.outDtype() != null ? recipe.outDtype() : recipe.dtype();
            this.forcedDtype = d == null ? null : DType.fromTorchName(d)
                    .orElseThrow(() -> new RecipeException("unsupported dtype " + d));
            this.inputDtype = recipe.dtype() == null ? null : DType.fromTorchName(recipe.dtype())
                    .orElseThrow(() -> new RecipeException("unsupported dtype " + recipe.dtype()));
        }

        MergePlan plan() {
            List<Recipe.OutputSlice> slices = normalisedSlices();
            SourceModel ref = models.get(recipe.baseModel() != null ? recipe.baseModel()
                    : slices.getFirst().sources().getFirst().model());
            arch = Architecture.detect(ref.config());
            SourceModel first = models.get(slices.getFirst().sources().getFirst().model());
            SourceModel last = models.get(slices.getLast().sources().getFirst().model());

            List<String> pre = arch.generic() ? nonLayer(first) : arch.preWeights();
            for (String name : pre) tensor(name, slices.getFirst(), 0.0, null, -1);
            int outLayer = 0;
            for (Recipe.OutputSlice s : slices) {
                int n = s.layerCount();
                for (int i = 0; i < n; i++) {
                    double t = n > 1 ? (double) i / (n - 1) : 1.0;
                    layer(s, i, outLayer++, t);
                }
            }
            if (!arch.generic()) {
                for (String name : arch.postWeights()) tensor(name, slices.getLast(), 0.0, null, -1);
            }
            if (!problems.isEmpty()) throw new RecipeException(recipe.source(), problems);
            if (out.isEmpty()) throw new RecipeException(recipe.source() + ": the plan has no tensors");
            return new MergePlan(method, arch, ref, List.copyOf(out), outLayer, recipe.baseModel());
        }

        List<Recipe.OutputSlice> normalisedSlices() {
            if (!recipe.slices().isEmpty()) return recipe.slices();
            List<Recipe.InputSlice> sources = new ArrayList<>();
            boolean baseIncluded = false;
            for (Recipe.InputModel m : recipe.models()) {
                baseIncluded |= m.model().equals(recipe.baseModel());
                sources.add(new Recipe.InputSlice(m.model(), 0, layers(m.model()), m.parameters()));
            }
            if (recipe.baseModel() != null && !baseIncluded) {
                sources.add(new Recipe.InputSlice(recipe.baseModel(), 0, layers(recipe.baseModel()), Map.of()));
            }
            int n = sources.getFirst().end();
            for (var s : sources) {
                if (s.end() != n) {
                    throw new RecipeException("model " + s.model() + " has " + s.end() + " layers, model "
                            + sources.getFirst().model() + " has " + n);
                }
            }
            return List.of(new Recipe.OutputSlice(List.copyOf(sources), null, null, Map.of()));
        }

        int layers(String model) {
            SourceModel m = models.get(model);
            return Architecture.detect(m.config()).numLayers(m.config(), model);
        }

        List<String> nonLayer(SourceModel m) {
            List<String> names = new ArrayList<>();
            for (String n : m.weights().names()) if (arch.layerOf(n) < 0) names.add(n);
            return names;
        }

        void layer(Recipe.OutputSlice s, int offset, int outLayer, double t) {
            var src0 = s.sources().getFirst();
            SourceModel m0 = models.get(src0.model());
            int inLayer0 = src0.start() + offset;
            String prefix = null;
            List<String> suffixes = new ArrayList<>();
            for (String n : m0.weights().names()) {
                if (arch.layerOf(n) == inLayer0) {
                    suffixes.add(arch.suffixOf(n));
                    prefix = arch.prefixOf(n);
                }
            }
            if (suffixes.isEmpty()) {
                problems.add("model " + src0.model() + ": no tensors for layer " + inLayer0);
                return;
            }
            for (String suffix : suffixes) {
                tensor(prefix + outLayer + "." + suffix, s, t, new LayerName(prefix, suffix), offset);
            }
        }

        /** Plans one output tensor; {@code layer} (null for non-layer tensors) names a source's input. */
        void tensor(String outName, Recipe.OutputSlice slice, double t, LayerName layer, int offset) {
            String base = slice.baseModel() != null ? slice.baseModel() : recipe.baseModel();
            List<PlannedInput> inputs = new ArrayList<>();
            boolean optional = arch.optional().contains(outName);
            for (int position = 0; position < slice.sources().size(); position++) {
                Recipe.InputSlice src = slice.sources().get(position);
                String name = layer == null ? outName : layer.at(src.start() + offset);
                SourceModel m = models.get(src.model());
                if (!m.weights().has(name) && optional && !arch.embeddings().isEmpty()) {
                    // a tied head: the embedding matrix stands in, as mergekit's tied_names
                    String tied = arch.preWeights().isEmpty() ? null : arch.preWeights().getFirst();
                    if (tied != null && m.weights().has(tied)) {
                        inputs.add(input(src, name, tied, base, slice, t, position));
                        continue;
                    }
                }
                inputs.add(input(src, name, name, base, slice, t, position));
            }
            if (optional) {
                boolean realHead = false;
                for (Recipe.InputSlice src : slice.sources()) realHead |= models.get(src.model()).weights().has(outName);
                if (!realHead) return; // tied everywhere: the output ties as well
            }
            // base model first, so methods find it at index 0 whatever the recipe order
            inputs.sort((a, b) -> Boolean.compare(b.isBase(), a.isBase()));
            Map<String, Object> globals = new LinkedHashMap<>();
            for (ParameterDef p : method.parameters()) {
                Object v = lookup(p.name(), null, outName, t, slice);
                if (v == null) v = p.defaultValue();
                if (v == null && p.required()) {
                    problems.add("tensor " + outName + ": missing required parameter '" + p.name() + "'");
                    return;
                }
                if (v != null && p.check(v) != null) {
                    problems.add("tensor " + outName + ": parameter '" + p.name() + "' " + p.check(v));
                    return;
                }
                globals.put(p.name(), v);
            }
            long[] shape = validate(outName, inputs);
            DType first = inputs.getFirst().info(models) == null ? null : inputs.getFirst().info(models).dtype();
            boolean raw = first != null && !first.isMergeFloat();
            DType outDtype = raw || forcedDtype == null ? first : forcedDtype;
            int rounded = 0;
            if (!raw && inputDtype != null) {
                for (PlannedInput in : inputs) {
                    TensorInfo info = in.info(models);
                    if (info != null && info.dtype().roundsTo(inputDtype)) rounded++;
                }
            }
            out.add(new Planned(outName, List.copyOf(inputs), globals, outDtype, raw, shape, raw ? null : inputDtype, rounded));
        }

        PlannedInput input(Recipe.InputSlice src, String inputName, String tensorName, String base,
                           Recipe.OutputSlice slice, double t, int position) {
            Map<String, Object> params = new HashMap<>();
            for (ParameterDef p : method.tensorParameters()) {
                Object v = lookup(p.name(), src.model(), inputName, t, slice);
                if (v == null) v = p.defaultValue();
                if (v == null && p.required() && !src.model().equals(base)) {
                    // as mergekit: required for every model but the base
                    problems.add("tensor " + inputName + " of model " + src.model() + ": missing required parameter '"
                            + p.name() + "'");
                }
                if (v != null && p.check(v) != null) {
                    problems.add("tensor " + inputName + " of model " + src.model() + ": parameter '" + p.name() + "' " + p.check(v));
                }
                if (v != null) params.put(p.name(), v);
            }
            return new PlannedInput(src.model(), tensorName, src.model().equals(base), params, position);
        }

        Object lookup(String name, String model, String tensor, double t, Recipe.OutputSlice slice) {
            if (model != null) {
                for (Recipe.InputSlice s : slice.sources()) {
                    if (s.model().equals(model) && s.parameters().containsKey(name)) {
                        Object v = s.parameters().get(name).evaluate(tensor, t);
                        if (v != null) return v;
                    }
                }
            }
            if (slice.parameters().containsKey(name)) {
                Object v = slice.parameters().get(name).evaluate(tensor, t);
                if (v != null) return v;
            }
            if (recipe.parameters().containsKey(name)) {
                return recipe.parameters().get(name).evaluate(tensor, t);
            }
            return null;
        }

        /** Checks presence, shapes and dtypes; returns the output shape (null after a problem). */
        long[] validate(String outName, List<PlannedInput> inputs) {
            TensorInfo first = null;
            String firstModel = null;
            long rows = Long.MAX_VALUE;
            boolean embedding = arch.embeddings().contains(outName);
            int before = problems.size();
            for (PlannedInput in : inputs) {
                TensorInfo info = in.info(models);
                if (info == null) {
                    problems.add("tensor " + in.tensor() + " missing from model " + in.model() + " (for output " + outName + ")");
                    continue;
                }
                if (first == null) {
                    first = info;
                    firstModel = in.model();
                }
                if (embedding && info.rank() == 2) rows = Math.min(rows, info.dim(0));
                boolean vocabOnly = embedding && info.rank() == 2 && first.rank() == 2 && info.dim(1) == first.dim(1);
                if (!first.sameShape(info) && !vocabOnly) {
                    problems.add("tensor " + in.tensor() + ": shape " + info.shapeString() + " in model " + in.model()
                            + " differs from " + first.shapeString() + " in model " + firstModel);
                }
                if (info.dtype().isMergeFloat() != first.dtype().isMergeFloat()) {
                    problems.add("tensor " + in.tensor() + ": dtype " + info.dtype() + " in model " + in.model()
                            + " cannot be merged with " + first.dtype() + " in model " + firstModel);
                }
            }
            if (first == null || problems.size() > before) return null;
            long[] shape = first.shape();
            if (embedding && shape.length == 2 && vocabRows != null) {
                // every input is laid out in the output vocabulary first (EmbeddingPermuter)
                shape[0] = vocabRows;
                return shape;
            }
            if (embedding && shape.length == 2 && rows != shape[0]) {
                // differing vocabularies: the common leading rows, as mergekit's rectify_embed_sizes;
                // task-vector methods need the base to be the smallest (mergekit fails otherwise)
                for (PlannedInput in : inputs) {
                    if (in.isBase() && method.needsBaseModel() && in.info(models).dim(0) != rows) {
                        problems.add("tensor " + in.tensor() + ": base model " + in.model() + " has "
                                + in.info(models).dim(0) + " rows but another model only " + rows
                                + " (vocabulary sizes must not be smaller than the base's)");
                        return null;
                    }
                }
                shape[0] = rows;
            }
            return shape;
        }
    }
}
