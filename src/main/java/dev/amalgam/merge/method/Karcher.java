package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Karcher (Riemannian) mean on the unit sphere, as mergekit's karcher.py: all inputs (a base
 * model is just one more input) weigh 1/N; the unit vectors of the inputs with norm > tol are
 * averaged by up to {@code max_iter} fixed-point steps (log map, weighted mean in the tangent
 * space, exp map) from their normalised arithmetic mean, stopping when the step's norm is below
 * {@code tol}; the result is scaled by the mean norm of all inputs.
 *
 * <p>The iterate always lies in the span of the unit vectors, so the whole iteration runs on
 * coefficients against their Gram matrix, in double precision: one streaming pass for the Gram
 * matrix (dot products in chunk order), one for the output Σ βᵢ·xᵢ. Memory: one chunk per
 * input and an N×N matrix, never a whole tensor.
 */
final class Karcher extends DeclaredMethod {
    Karcher() {
        super("karcher", "https://en.wikipedia.org/wiki/Karcher_mean", false,
                "Gram matrix in fixed chunk/lane order, iterations in double",
                List.of(
                    ParameterDef.number("max_iter", 10.0, "most fixed-point iterations (a whole number)").atLeast(0).wholeNumber(),
                    ParameterDef.number("tol", 1e-5, "convergence tolerance; inputs with norm <= tol are left out").atLeast(0)),
                List.of());
    }

    @Override
    public void merge(TensorContext ctx) {
        if (ctx.size() == 1) {
            new Passthrough().merge(ctx);
            return;
        }
        double maxIter = ctx.number("max_iter"), tol = ctx.number("tol");
        if (maxIter < 0 || maxIter != Math.rint(maxIter)) {
            throw ctx.fail("max_iter must be a whole number >= 0, got " + maxIter);
        }
        int[] idx = Gram.others(ctx, -1);
        double[][] g = Gram.matrix(ctx, idx, -1);
        Gram.requireFinite(ctx, idx, g, "the Karcher mean");
        float[] beta = coefficients(g, (int) Math.min(maxIter, Integer.MAX_VALUE), tol);
        for (float b : beta) if (!Float.isFinite(b)) throw ctx.fail("karcher coefficients are not finite (antipodal inputs?)");
        Gram.combine(ctx, idx, -1, beta);
    }

    /** β with result = Σ βᵢ·xᵢ, following mergekit's iteration on the Gram matrix G of the inputs. */
    static float[] coefficients(double[][] g, int maxIter, double tol) {
        int n = g.length;
        double[] norm = new double[n];
        double scale = 0;
        for (int i = 0; i < n; i++) {
            norm[i] = Math.sqrt(g[i][i]);
            scale += norm[i] / n;
        }
        int[] valid = IntStream.range(0, n).filter(i -> norm[i] > tol).toArray();
        float[] beta = new float[n];
        int v = valid.length;
        if (v == 0) return beta; // every input ~zero: zeros
        // e = the valid unit vectors, E their Gram matrix; the iterate u = Σ γⱼ·eⱼ
        double[][] e = new double[v][v];
        for (int i = 0; i < v; i++) {
            for (int j = 0; j < v; j++) e[i][j] = g[valid[i]][valid[j]] / (norm[valid[i]] * norm[valid[j]]);
        }
        double a = 1.0 / v;
        double[] u = new double[v];
        Arrays.fill(u, a);
        double un = Math.sqrt(Math.max(0, MultiSlerp.quad(e, u, u)));
        if (un < tol) {
            Arrays.fill(u, 0);
            u[0] = 1;
        } else {
            for (int j = 0; j < v; j++) u[j] /= un;
        }
        for (int iter = 0; iter < maxIter; iter++) {
            double[] step = new double[v];
            double[] eu = times(e, u);
            for (int i = 0; i < v; i++) {
                double dot = Math.max(-1, Math.min(1, eu[i]));
                double theta = StrictMath.acos(dot);
                if (theta < tol) continue;
                double f = a * theta / StrictMath.sin(theta);
                step[i] += f; // f·(eᵢ − dot·u)
                for (int j = 0; j < v; j++) step[j] -= f * dot * u[j];
            }
            double stepNorm = Math.sqrt(Math.max(0, MultiSlerp.quad(e, step, step)));
            if (stepNorm < tol) break;
            double c = StrictMath.cos(stepNorm), s = StrictMath.sin(stepNorm) / stepNorm;
            for (int j = 0; j < v; j++) u[j] = c * u[j] + s * step[j];
            double n2 = Math.sqrt(Math.max(0, MultiSlerp.quad(e, u, u)));
            if (n2 > tol) for (int j = 0; j < v; j++) u[j] /= n2;
        }
        for (int j = 0; j < v; j++) beta[valid[j]] = (float) (scale * u[j] / norm[valid[j]]);
        return beta;
    }

    private static double[] times(double[][] e, double[] u) {
        double[] r = new double[u.length];
        for (int i = 0; i < u.length; i++) for (int j = 0; j < u.length; j++) r[i] += e[i][j] * u[j];
        return r;
    }
}
