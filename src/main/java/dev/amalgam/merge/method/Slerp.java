package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;

/**
 * Spherical interpolation from the base model (t = 0) to the other (t = 1), falling back to
 * linear interpolation when the two tensors are nearly colinear (|cos| > 0.9995), as mergekit.
 * The angle comes from a first pass of norms and a dot product in the fixed reduction order.
 */
final class Slerp extends BasePairMethod {
    private static final double DOT_THRESHOLD = 0.9995;
    private static final double EPS = 1e-8;

    Slerp() {
        super("slerp", "https://en.wikipedia.org/wiki/Slerp",
                "norms and dot product in fixed chunk/lane order",
                List.of(ParameterDef.requiredNumber("t", "interpolation factor: 0 = base model, 1 = the other")));
    }

    @Override
    void merge(TensorContext ctx, int a, int b) {
        double t = ctx.number("t");
        var k = ctx.kernels();
        int chunk = TensorContext.CHUNK;
        float[] x0 = new float[chunk], x1 = new float[chunk], acc = new float[chunk];
        long n = ctx.elements();
        double n0 = 0, n1 = 0, d01 = 0;
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            ctx.load(a, c, x0, len);
            ctx.load(b, c, x1, len);
            n0 += k.dot(x0, x0, len);
            n1 += k.dot(x1, x1, len);
            d01 += k.dot(x0, x1, len);
        }
        double norm0 = Math.sqrt(n0), norm1 = Math.sqrt(n1);
        // mergekit normalises each vector only when its norm exceeds eps
        double dot = d01 / (norm0 > EPS ? norm0 : 1) / (norm1 > EPS ? norm1 : 1);
        float w0, w1;
        if (Math.abs(dot) > DOT_THRESHOLD) {
            w0 = (float) (1 - t);
            w1 = (float) t;
        } else {
            double theta0 = Math.acos(dot);
            double sin0 = Math.sin(theta0);
            double thetaT = theta0 * t;
            w0 = (float) (Math.sin(theta0 - thetaT) / sin0);
            w1 = (float) (Math.sin(thetaT) / sin0);
        }
        if (!Float.isFinite(w0) || !Float.isFinite(w1)) throw ctx.fail("slerp coefficients are not finite (non-finite weights?)");
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            java.util.Arrays.fill(acc, 0, len, 0f);
            ctx.load(a, c, x0, len);
            k.axpy(acc, x0, w0, len);
            ctx.load(b, c, x1, len);
            k.axpy(acc, x1, w1, len);
            ctx.emit(c, acc, len);
        }
    }
}
