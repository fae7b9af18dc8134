package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;
import java.util.Map;

/**
 * NearSwap: takes the other model's value where it is already near the base's. Per element,
 * w = clamp(t / max(|base − x|, 1e-6), 0, 1) and the output is w·x + (1 − w)·base, as mergekit's
 * nearswap.py. Elementwise; memory: three chunks.
 */
final class NearSwap extends BasePairMethod {
    private static final float MIN_DIFF = 1e-6f;

    NearSwap() {
        super("nearswap", "https://huggingface.co/alchemonaut/QuartetAnemoi-70B-t0.0001",
                "elementwise, fixed input order",
                List.of(ParameterDef.requiredNumber("t", "distance under which the other model's value is taken fully")));
    }

    @Override
    public boolean elementwise(Map<String, Object> globals) {
        return true;
    }

    @Override
    void merge(TensorContext ctx, int a, int b) {
        float t = (float) ctx.number("t");
        int chunk = TensorContext.CHUNK;
        float[] xa = new float[chunk], xb = new float[chunk];
        long n = ctx.elements();
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            ctx.load(a, c, xa, len);
            ctx.load(b, c, xb, len);
            for (int i = 0; i < len; i++) {
                // Math.max/min keep NaN, as torch's clamp does
                float w = Math.min(Math.max(t / Math.max(Math.abs(xa[i] - xb[i]), MIN_DIFF), 0f), 1f);
                xa[i] = w * xb[i] + (1f - w) * xa[i];
            }
            ctx.emit(c, xa, len);
        }
    }
}
