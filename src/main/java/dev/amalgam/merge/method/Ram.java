package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;
import java.util.Map;

/**
 * RAM (Reinforced Agent Merging, mergekit's ram.py) over task vectors δᵢ = xᵢ − base. An
 * element of δᵢ contributes when |δᵢ| > {@code epsilon}; with c the number of contributing
 * models at an element, a lone contributor is taken whole and c > 1 contributors are averaged
 * (each δᵢ / c, summed in input order); no contributor keeps the base. Output: base + that sum.
 *
 * <p>The tensor-local plus variant ({@code ramplus_tl}) scales each model's lone contributions
 * by λᵢ = 1 + r · clamp(ρᵢ, 0, α), ρᵢ = shared / max(unique, epsilon): of model i's contributing
 * elements, those shared with another model over those it alone changes, counted over the whole
 * tensor (a first pass), in F32 as mergekit computes them.
 *
 * <p>Models are summed in input (recipe) order; mergekit sums them in the order of a Python set,
 * which can change between runs (the last bit for three or more overlapping models).
 */
final class Ram extends DeclaredMethod {
    /** Whether this is {@code ramplus_tl}: lone contributions scaled by a per-model λ. */
    private final boolean plus;

    private Ram(String name, boolean plus, List<ParameterDef> parameters) {
        super(name, "https://arxiv.org/abs/2601.13572", true,
                plus ? "elementwise in input order after one counting pass (exact integer counts)"
                        : "elementwise, fixed input order",
                parameters, List.of());
        this.plus = plus;
    }

    /** mergekit's {@code ram}. */
    static Ram plain() {
        return new Ram("ram", false, List.of(
                ParameterDef.number("epsilon", 1e-5, "a task-vector element contributes when its magnitude exceeds this")));
    }

    /** mergekit's {@code ramplus_tl}. */
    static Ram plusTensorLocal() {
        return new Ram("ramplus_tl", true, List.of(
                ParameterDef.number("r", 0.1, "strength of the boost of a model's unique contributions"),
                ParameterDef.number("alpha", 0.2, "upper bound of the shared/unique ratio in the boost"),
                ParameterDef.number("epsilon", 1e-5, "a task-vector element contributes when its magnitude exceeds this")));
    }

    @Override
    public boolean elementwise(Map<String, Object> globals) {
        return !plus;
    }

    @Override
    public void merge(TensorContext ctx) {
        int base = ctx.baseIndex();
        if (base < 0) throw ctx.fail(name() + " needs a base_model");
        int[] idx = Gram.others(ctx, base);
        int m = idx.length;
        if (m == 0) {
            new Passthrough().merge(ctx);
            return;
        }
        float eps = (float) ctx.number("epsilon");
        int chunk = TensorContext.CHUNK;
        float[] b = new float[chunk];
        float[][] d = new float[m][chunk];
        long n = ctx.elements();
        float[] lambda = plus ? lambdas(ctx, idx, eps, b, d) : null;
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            ctx.load(base, c, b, len);
            for (int i = 0; i < m; i++) ctx.loadDelta(idx[i], c, b, d[i], len);
            for (int e = 0; e < len; e++) {
                int count = 0;
                for (int i = 0; i < m; i++) if (Math.abs(d[i][e]) > eps) count++;
                float sum = 0f;
                if (count == 1) {
                    for (int i = 0; i < m; i++) {
                        if (Math.abs(d[i][e]) > eps) sum = plus ? d[i][e] * lambda[i] : d[i][e];
                    }
                } else if (count > 1) {
                    float cf = count;
                    for (int i = 0; i < m; i++) if (Math.abs(d[i][e]) > eps) sum = sum + d[i][e] / cf;
                }
                // no contributor: the base itself (base + 0 is the base, signed zeros included)
                b[e] = count == 0 ? b[e] : b[e] + sum;
            }
            ctx.emit(c, b, len);
        }
    }

    /** λᵢ per model from one pass counting its shared and unique contributing elements. */
    private static float[] lambdas(TensorContext ctx, int[] idx, float eps, float[] b, float[][] d) {
        int m = idx.length, chunk = TensorContext.CHUNK;
        long[] shared = new long[m], unique = new long[m];
        long n = ctx.elements();
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            ctx.load(ctx.baseIndex(), c, b, len);
            for (int i = 0; i < m; i++) ctx.loadDelta(idx[i], c, b, d[i], len);
            for (int e = 0; e < len; e++) {
                int count = 0;
                for (int i = 0; i < m; i++) if (Math.abs(d[i][e]) > eps) count++;
                if (count == 0) continue;
                for (int i = 0; i < m; i++) {
                    if (Math.abs(d[i][e]) > eps) {
                        if (count == 1) unique[i]++;
                        else shared[i]++;
                    }
                }
            }
        }
        float r = (float) ctx.number("r"), alpha = (float) ctx.number("alpha");
        float[] lambda = new float[m];
        for (int i = 0; i < m; i++) {
            // as mergekit: counts as F32, the unique count clamped below at epsilon
            float rho = (float) shared[i] / Math.max((float) unique[i], eps);
            lambda[i] = 1f + r * Math.min(Math.max(rho, 0f), alpha);
        }
        return lambda;
    }
}
