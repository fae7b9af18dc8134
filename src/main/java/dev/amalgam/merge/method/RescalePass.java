package dev.amalgam.merge.method;

/** DARE's and DELLA's L1 rescale: each sparsified task vector scaled back to its norm before sparsifying. */
final class RescalePass {
    private RescalePass() {
    }

    /**
     * The factor per task vector: its L1 norm before over after sparsification, summed in fixed
     * order chunk by chunk; 1 for a task vector kept whole, and where either norm is below 1e-7
     * (mergekit then leaves the masked tensor unscaled).
     */
    static float[] factors(TensorContext ctx, int[] idx, Sparsity[] sp, float[] base, float[] tmp) {
        long n = ctx.elements();
        Sparsifier[] s = new Sparsifier[sp.length];
        for (int i = 0; i < sp.length; i++) s[i] = sp[i].fresh(n);
        double[] before = new double[sp.length], after = new double[sp.length];
        var k = ctx.kernels();
        for (long c = 0; c < n; c += TensorContext.CHUNK) {
            int len = (int) Math.min(TensorContext.CHUNK, n - c);
            ctx.load(ctx.baseIndex(), c, base, len);
            for (int i = 0; i < sp.length; i++) {
                if (s[i] instanceof Sparsifier.KeepAll) continue;
                ctx.load(idx[i], c, tmp, len);
                k.sub(tmp, base, tmp, len);
                before[i] += k.sumAbs(tmp, len);
                s[i].apply(tmp, c, len, k);
                after[i] += k.sumAbs(tmp, len);
            }
        }
        float[] factors = new float[sp.length];
        for (int i = 0; i < sp.length; i++) {
            factors[i] = before[i] >= 1e-7 && after[i] >= 1e-7 ? (float) (before[i] / after[i]) : 1f;
        }
        return factors;
    }
}
