package dev.amalgam.merge.method;

import java.util.Arrays;

/**
 * The two streaming passes of the methods whose result is a linear combination of whole-tensor
 * vectors with coefficients from their norms and angles (nuslerp flattened, multislerp, karcher):
 * first the Gram matrix of the vectors, then the output Σ βᵢ·vᵢ. A vector is an input, or its
 * task vector (input − base) when a base is given. Dot products are summed per
 * {@link TensorContext#CHUNK} chunk on the kernels and across chunks in chunk order, so the
 * result never depends on threads or SIMD width. Memory: one chunk per vector.
 */
final class Gram {
    private Gram() {
    }

    /** G[i][j] = vᵢ·vⱼ (symmetric) for the inputs {@code idx}, minus input {@code base} when it is >= 0. */
    static double[][] matrix(TensorContext ctx, int[] idx, int base) {
        int m = idx.length, chunk = TensorContext.CHUNK;
        var k = ctx.kernels();
        float[][] v = new float[m][chunk];
        float[] b = base >= 0 ? new float[chunk] : null;
        double[][] g = new double[m][m];
        long n = ctx.elements();
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            load(ctx, idx, base, c, b, v, len);
            for (int i = 0; i < m; i++) {
                for (int j = i; j < m; j++) g[i][j] += k.dot(v[i], v[j], len);
            }
        }
        for (int i = 0; i < m; i++) for (int j = 0; j < i; j++) g[i][j] = g[j][i];
        return g;
    }

    /** Emits Σ βᵢ·vᵢ (accumulated in index order), plus the base when {@code base} >= 0. */
    static void combine(TensorContext ctx, int[] idx, int base, float[] beta) {
        int m = idx.length, chunk = TensorContext.CHUNK;
        var k = ctx.kernels();
        float[][] v = new float[m][chunk];
        float[] b = base >= 0 ? new float[chunk] : null;
        float[] acc = new float[chunk];
        long n = ctx.elements();
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            load(ctx, idx, base, c, b, v, len);
            Arrays.fill(acc, 0, len, 0f);
            for (int i = 0; i < m; i++) k.axpy(acc, v[i], beta[i], len);
            if (b != null) k.add(b, acc, acc, len);
            ctx.emit(c, acc, len);
        }
    }

    private static void load(TensorContext ctx, int[] idx, int base, long c, float[] b, float[][] v, int len) {
        if (b != null) ctx.load(base, c, b, len);
        for (int i = 0; i < idx.length; i++) {
            if (b == null) {
                ctx.load(idx[i], c, v[i], len);
            } else {
                ctx.loadDelta(idx[i], c, b, v[i], len);
            }
        }
    }

    /** The inputs other than {@code base}, in input order. */
    static int[] others(TensorContext ctx, int base) {
        int[] idx = new int[base >= 0 ? ctx.size() - 1 : ctx.size()];
        for (int j = 0, o = 0; j < ctx.size(); j++) if (j != base) idx[o++] = j;
        return idx;
    }

    /** Fails naming the first model whose squared norm is not finite (NaN or Inf in its tensor). */
    static void requireFinite(TensorContext ctx, int[] idx, double[][] g, String what) {
        for (int i = 0; i < idx.length; i++) {
            if (!Double.isFinite(g[i][i])) {
                throw ctx.fail(idx[i], "contains NaN or Inf (or overflows F32), so " + what + " is undefined");
            }
        }
    }
}
