package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.SourceModel;
import dev.amalgam.safetensors.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Differentiable Adaptive Merging with learned coefficients: {@code out[r, c] = Σₘ coefₘ[c] · xₘ[r, c]},
 * a coefficient per model and per column (the last dimension; per element for 1-D tensors).
 * The coefficients are an input artefact, a model folder named by the {@code coefficients}
 * parameter whose {@code model.safetensors} holds, for every merged tensor, a tensor of the
 * same name and shape [models, columns], row m for the m-th model of {@code models:}
 * ({@code amalgam dam fit} writes one). Being a model reference, the folder is resolved, hashed
 * and recorded like the input models.
 */
final class Dam extends DeclaredMethod {
    static final String COEFFICIENTS = "coefficients";

    Dam() {
        super("dam", "https://arxiv.org/abs/2410.08371", false,
                "elementwise, per-column coefficients, models summed in recipe order",
                List.of(ParameterDef.requiredModel(COEFFICIENTS,
                    "model folder of learned coefficients ([models, columns] per tensor; see amalgam dam fit)")),
                List.of());
    }

    @Override
    public String checkInputCount(int inputs, boolean hasBase) {
        return inputs < 2 ? "dam merges at least 2 models, got " + inputs : null;
    }

    @Override
    public List<String> checkRecipe(Recipe r) {
        List<String> problems = new ArrayList<>();
        if (!r.slices().isEmpty()) {
            problems.add("slices: dam merges whole models with learned coefficients; use models:, not slices:");
        }
        if (r.baseModel() != null && r.models().stream().noneMatch(m -> m.model().equals(r.baseModel()))) {
            problems.add("base_model: for dam the base model must be one of the models (the coefficients have one row per model)");
        }
        return problems;
    }

    /** Every merged tensor has finite-shaped coefficients of the right shape (values are checked when merging). */
    @Override
    public String checkTensor(PlannedTensor p, Map<String, SourceModel> models) {
        if (!(p.globals().get(COEFFICIENTS) instanceof String ref) || models.get(ref) == null) return null;
        int m = p.inputCount();
        long cols = p.shape().length == 0 ? 1 : p.shape()[p.shape().length - 1];
        var info = models.get(ref).weights().info(p.name());
        if (info == null) {
            return "tensor " + p.name() + ": no coefficients in coefficients " + ref + " (dam needs a [" + m + ", "
                    + cols + "] tensor of the same name)";
        } else if (!info.dtype().isMergeFloat() || info.rank() != 2 || info.dim(0) != m || info.dim(1) != cols) {
            return "tensor " + p.name() + ": coefficients in " + ref + " are " + info.dtype() + info.shapeString()
                    + ", expected a float [" + m + ", " + cols + "] tensor";
        }
        return null;
    }

    @Override
    public boolean elementwise(Map<String, Object> globals) {
        return true;
    }

    @Override
    public void merge(TensorContext ctx) {
        int m = ctx.size();
        long[] shape = ctx.shape();
        int cols = shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
        float[][] coef = coefficients(ctx, m, cols);
        // sum in recipe order whatever the input order, so the output is what dam fit evaluated
        int[] byPosition = new int[m];
        Arrays.fill(byPosition, -1);
        for (int j = 0; j < m; j++) {
            int p = ctx.inputs().get(j).position();
            if (p < 0 || p >= m || byPosition[p] >= 0) throw ctx.fail(j, "has no distinct position among the " + m + " models");
            byPosition[p] = j;
        }
        var k = ctx.kernels();
        int chunk = TensorContext.CHUNK;
        float[] acc = new float[chunk], x = new float[chunk];
        float[][] w = new float[m][chunk];
        long n = ctx.elements();
        // when every chunk starts at column 0 the expanded coefficients are the same for all chunks
        boolean periodic = chunk % cols == 0 && ctx.offset() % cols == 0;
        if (periodic) for (int p = 0; p < m; p++) expand(coef[p], 0, w[p], chunk);
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            Arrays.fill(acc, 0, len, 0f);
            for (int p = 0; p < m; p++) {
                if (!periodic) expand(coef[p], (int) ((ctx.offset() + c) % cols), w[p], len);
                ctx.load(byPosition[p], c, x, len);
                k.mulAdd(acc, w[p], x, len);
            }
            ctx.emit(c, acc, len);
        }
    }

    /** dst[i] = row[(phase + i) mod row.length]. */
    private static void expand(float[] row, int phase, float[] dst, int n) {
        int i = 0, col = phase;
        while (i < n) {
            int run = Math.min(n - i, row.length - col);
            System.arraycopy(row, col, dst, i, run);
            i += run;
            col = 0;
        }
    }

    /** The [m, cols] coefficients of this tensor, checked for presence, shape and finiteness. */
    private static float[][] coefficients(TensorContext ctx, int m, int cols) {
        SourceModel folder = ctx.referenced(COEFFICIENTS);
        Tensor t = folder.weights().tensor(ctx.name());
        String where = "coefficients " + folder.reference();
        if (t == null) {
            throw ctx.fail("no coefficients in " + where + " (dam needs a [" + m + ", " + cols
                    + "] tensor of the same name for every merged tensor)");
        }
        if (!t.dtype().isMergeFloat() || t.info().rank() != 2 || t.info().dim(0) != m || t.info().dim(1) != cols) {
            throw ctx.fail("coefficients in " + where + " are " + t.dtype() + t.info().shapeString() + ", expected a float ["
                    + m + ", " + cols + "] tensor (one row per model, one column per column of the tensor)");
        }
        float[][] out = new float[m][cols];
        for (int p = 0; p < m; p++) {
            ctx.kernels().load(t.data(), t.dtype(), (long) p * cols, out[p], cols);
            for (int c = 0; c < cols; c++) {
                if (!Float.isFinite(out[p][c])) {
                    throw ctx.fail("coefficient [" + p + ", " + c + "] in " + where + " is not finite (" + out[p][c] + ")");
                }
            }
        }
        return out;
    }
}
