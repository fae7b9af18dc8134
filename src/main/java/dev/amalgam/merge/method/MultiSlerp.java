package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;

/**
 * Multi-SLERP (mergekit's multislerp.py): barycentric interpolation on the hypersphere. Each
 * vector (the whole tensor, or its task vector when a base model is given) is divided by
 * ‖vᵢ‖ + eps; their weighted mean is normalised to a point μ on the sphere; the weighted mean of
 * the unit vectors' projections onto the tangent space at μ is mapped back with the exponential
 * map; the result is scaled by Σ wᵢ‖vᵢ‖ (weights divided by their sum when
 * {@code normalize_weights}). With two models whose weighted unit mean is ~0, a linear
 * combination instead, as mergekit.
 *
 * <p>Every quantity in that recipe is a linear combination of the vᵢ with coefficients that
 * depend only on their Gram matrix, so it streams: one pass for the Gram matrix (dot products
 * in chunk order), the coefficients in double precision, one pass for Σ βᵢ·vᵢ. Memory: one chunk
 * per input. (The tangent step cancels in exact arithmetic — the weighted mean of the tangent
 * projections at the normalised weighted mean is zero — so it only adds rounding noise in
 * mergekit; it is evaluated here all the same.)
 */
final class MultiSlerp extends DeclaredMethod {
    MultiSlerp() {
        super("multislerp", "https://goddard.blog/posts/multislerp-wow-what-a-cool-idea", false,
                "Gram matrix in fixed chunk/lane order, coefficients in double",
                List.of(
                    ParameterDef.bool("normalize_weights", true, "divide the weights by their sum"),
                    ParameterDef.number("eps", 1e-8, "added to norms before dividing by them").atLeast(0)),
                List.of(ParameterDef.requiredNumber("weight", "weight of this model")));
    }

    @Override
    public void merge(TensorContext ctx) {
        int base = ctx.baseIndex();
        int[] idx = Gram.others(ctx, base);
        if (idx.length <= 1) {
            // one model (with or without a base): mergekit returns that model unchanged
            copy(ctx, idx.length == 1 ? idx[0] : base);
            return;
        }
        int m = idx.length;
        double[] w = new double[m];
        double wsum = 0;
        for (int i = 0; i < m; i++) {
            w[i] = ctx.number(idx[i], "weight");
            wsum += w[i];
        }
        if (ctx.flag("normalize_weights")) {
            if (wsum == 0) throw ctx.fail("multislerp weights sum to zero, cannot normalize them");
            for (int i = 0; i < m; i++) w[i] /= wsum;
        }
        double eps = ctx.number("eps");
        double[][] g = Gram.matrix(ctx, idx, base);
        Gram.requireFinite(ctx, idx, g, "the spherical mean");
        float[] beta = coefficients(ctx, g, w, eps);
        Gram.combine(ctx, idx, base, beta);
    }

    /** β with result = Σ βᵢ·vᵢ, following mergekit's steps on the Gram matrix. */
    static float[] coefficients(TensorContext ctx, double[][] g, double[] w, double eps) {
        int m = w.length;
        double[] norm = new double[m];
        boolean allZero = true;
        for (int i = 0; i < m; i++) {
            norm[i] = Math.sqrt(g[i][i]);
            allZero &= norm[i] == 0;
        }
        float[] beta = new float[m];
        // every vector zero (an unchanged tensor): every combination is zero (mergekit fails for 3+)
        if (allZero) return beta;
        // mean = Σ cᵢ·vᵢ with cᵢ = wᵢ / (‖vᵢ‖ + eps)
        double[] c = new double[m];
        for (int i = 0; i < m; i++) c[i] = w[i] / (norm[i] + eps);
        double meanNorm = Math.sqrt(Math.max(0, quad(g, c, c)));
        if (meanNorm < eps) {
            if (m == 2) {
                for (int i = 0; i < m; i++) beta[i] = (float) w[i];
                return beta;
            }
            throw ctx.fail("the weighted mean of the unit vectors is zero (antipodal models with balancing weights?):"
                    + " multislerp is undefined; change the weights");
        }
        double[] mu = new double[m]; // μ = mean / ‖mean‖
        for (int i = 0; i < m; i++) mu[i] = c[i] / meanNorm;
        // tangent = Σ wᵢ·(uᵢ − (uᵢ·μ)·μ) with uᵢ = vᵢ / (‖vᵢ‖ + eps)
        double[] tangent = new double[m];
        double along = 0;
        for (int i = 0; i < m; i++) {
            double[] ui = new double[m];
            ui[i] = 1 / (norm[i] + eps);
            double dot = quad(g, ui, mu);
            tangent[i] += w[i] * ui[i];
            along += w[i] * dot;
        }
        for (int i = 0; i < m; i++) tangent[i] -= along * mu[i];
        double tn = Math.sqrt(Math.max(0, quad(g, tangent, tangent))) + eps;
        double cos = StrictMath.cos(tn), sinc = StrictMath.sin(tn) / tn;
        double scale = 0;
        for (int i = 0; i < m; i++) scale += norm[i] * w[i];
        for (int i = 0; i < m; i++) {
            beta[i] = (float) (scale * (mu[i] * cos + tangent[i] * sinc));
            if (!Float.isFinite(beta[i])) throw ctx.fail("multislerp coefficients are not finite (weights or eps out of range?)");
        }
        return beta;
    }

    /** aᵀ·G·b. */
    static double quad(double[][] g, double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == 0) continue;
            double row = 0;
            for (int j = 0; j < b.length; j++) row += g[i][j] * b[j];
            s += a[i] * row;
        }
        return s;
    }

    private static void copy(TensorContext ctx, int input) {
        float[] x = new float[TensorContext.CHUNK];
        long n = ctx.elements();
        for (long c = 0; c < n; c += TensorContext.CHUNK) {
            int len = (int) Math.min(TensorContext.CHUNK, n - c);
            ctx.load(input, c, x, len);
            ctx.emit(c, x, len);
        }
    }
}
