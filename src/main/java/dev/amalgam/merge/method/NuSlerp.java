package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;

/**
 * NuSLERP (mergekit's nuslerp.py): spherical interpolation between two models at
 * t = w₂ / (w₁ + w₂) (0.5 when the weights sum to about zero), of the task vectors when a base
 * model is given (the base is then added back). The great circle is taken over the whole tensor
 * ({@code nuslerp_flatten}, default), or separately for each vector along the last dimension
 * (rows of a matrix), or with {@code nuslerp_row_wise} along the first dimension (columns of a
 * matrix). Each vector is divided by max(‖v‖, 1e-7) to find the angle; when |sin θ| < 1e-8 the
 * two are interpolated linearly.
 *
 * <p>Memory: flattened, one chunk per input (two streaming passes, the norms and dot product
 * summed in chunk order on the kernels). Per vector, three doubles and two floats per vector
 * besides the chunks, the sums accumulated element by element in index order.
 */
final class NuSlerp extends DeclaredMethod {
    private static final double NORM_EPS = 1e-7;
    private static final double COLINEAR_EPS = 1e-8;

    NuSlerp() {
        super("nuslerp", "mergekit", false,
                "norms and dot product in fixed chunk/lane order (per vector: in index order)",
                List.of(
                    ParameterDef.bool("nuslerp_row_wise", false, "without flattening: vectors along the first dimension instead of the last"),
                    ParameterDef.bool("nuslerp_flatten", true, "one great circle over the whole tensor")),
                List.of(ParameterDef.requiredNumber("weight", "relative weight; t = second weight / sum of both")));
    }

    @Override
    public String checkInputCount(int inputs, boolean hasBase) {
        if (hasBase) return inputs == 3 ? null : "nuslerp with a base_model merges exactly two other models, got "
                + (inputs - 1) + " besides the base";
        return inputs == 2 ? null : "nuslerp merges exactly two models (plus an optional base_model), got " + inputs;
    }

    @Override
    public void merge(TensorContext ctx) {
        if (ctx.size() == 1) {
            new Passthrough().merge(ctx);
            return;
        }
        int base = ctx.baseIndex();
        int[] idx = Gram.others(ctx, base);
        if (idx.length != 2) {
            throw ctx.fail("nuslerp needs exactly two models besides the base model, got " + idx.length);
        }
        double w0 = ctx.number(idx[0], "weight"), w1 = ctx.number(idx[1], "weight");
        double sum = w0 + w1;
        double t = Math.abs(sum) < 1e-6 ? 0.5 : w1 / sum;
        if (ctx.elements() == 0) return;
        if (ctx.flag("nuslerp_flatten")) {
            double[][] g = Gram.matrix(ctx, idx, base);
            Gram.requireFinite(ctx, idx, g, "the slerp angle");
            float[] beta = new float[2];
            coefficients(g[0][0], g[1][1], g[0][1], t, beta, 0);
            Gram.combine(ctx, idx, base, beta);
        } else {
            perVector(ctx, idx, base, t);
        }
    }

    /**
     * The two slerp coefficients for vectors with squared norms n0, n1 and dot product d01,
     * into out[at], out[at + 1].
     */
    static void coefficients(double n0, double n1, double d01, double t, float[] out, int at) {
        double cos = d01 / Math.max(Math.sqrt(n0), NORM_EPS) / Math.max(Math.sqrt(n1), NORM_EPS);
        double theta = StrictMath.acos(Math.max(-1, Math.min(1, cos)));
        double sin = StrictMath.sin(theta);
        if (Math.abs(sin) < COLINEAR_EPS) {
            out[at] = (float) (1 - t);
            out[at + 1] = (float) t;
        } else {
            out[at] = (float) (StrictMath.sin((1 - t) * theta) / sin);
            out[at + 1] = (float) (StrictMath.sin(t * theta) / sin);
        }
    }

    /** One slerp per vector: along the last dimension, or along the first with nuslerp_row_wise. */
    private static void perVector(TensorContext ctx, int[] idx, int base, double t) {
        long n = ctx.elements();
        long[] shape = ctx.inputs().getFirst().tensor().info().shape();
        boolean first = ctx.flag("nuslerp_row_wise");
        // along the last dimension: vector e / len holds element e; along the first: e % stride
        long len = shape.length == 0 ? 1 : first ? shape[0] : shape[shape.length - 1];
        long count = n / len;
        if (count > Integer.MAX_VALUE / 3) throw ctx.fail("too many vectors for nuslerp without flattening (" + count + ")");
        int vectors = (int) count;
        double[] n0 = new double[vectors], n1 = new double[vectors], d01 = new double[vectors];
        int chunk = TensorContext.CHUNK;
        float[] b = base >= 0 ? new float[chunk] : null;
        float[] x0 = new float[chunk], x1 = new float[chunk], out = new float[chunk];
        for (long c = 0; c < n; c += chunk) {
            int l = (int) Math.min(chunk, n - c);
            load(ctx, idx, base, c, b, x0, x1, l);
            for (int i = 0; i < l; i++) {
                int v = vector(c + i, first, len, count);
                n0[v] += (double) x0[i] * x0[i];
                n1[v] += (double) x1[i] * x1[i];
                d01[v] += (double) x0[i] * x1[i];
            }
        }
        float[] coef = new float[2 * vectors];
        for (int v = 0; v < vectors; v++) {
            if (!Double.isFinite(n0[v]) || !Double.isFinite(n1[v])) {
                throw ctx.fail(idx[Double.isFinite(n0[v]) ? 1 : 0], "vector " + v + " contains NaN or Inf, so the slerp angle is undefined");
            }
            coefficients(n0[v], n1[v], d01[v], t, coef, 2 * v);
        }
        for (long c = 0; c < n; c += chunk) {
            int l = (int) Math.min(chunk, n - c);
            load(ctx, idx, base, c, b, x0, x1, l);
            for (int i = 0; i < l; i++) {
                int v = vector(c + i, first, len, count);
                out[i] = coef[2 * v] * x0[i] + coef[2 * v + 1] * x1[i];
            }
            if (b != null) ctx.kernels().add(b, out, out, l);
            ctx.emit(c, out, l);
        }
    }

    private static int vector(long e, boolean first, long len, long stride) {
        return (int) (first ? e % stride : e / len);
    }

    private static void load(TensorContext ctx, int[] idx, int base, long c, float[] b, float[] x0, float[] x1, int l) {
        var k = ctx.kernels();
        if (b == null) {
            ctx.load(idx[0], c, x0, l);
            ctx.load(idx[1], c, x1, l);
            return;
        }
        ctx.load(base, c, b, l);
        ctx.loadDelta(idx[0], c, b, x0, l);
        ctx.loadDelta(idx[1], c, b, x1, l);
    }
}
