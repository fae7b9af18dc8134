package dev.amalgam.merge.method;

import java.util.Arrays;
import java.util.List;

/**
 * Arcee Fusion (mergekit's arcee_fusion.py): takes the other model's change only where it
 * matters. Importance of element e in row r (a vector along the last dimension) is
 * |x − base|ₑ · KL(p ‖ q)ᵣ with p = softmax(x row) + 1e-8 and q = softmax(base row) + 1e-8;
 * the threshold is median + 1.5·(q3 − q1) of all importances, each quantile the sorted value at
 * index ⌊q·(n − 1)⌋; output base + (x − base)·[importance ≥ threshold].
 *
 * <p>Exact and streaming: mergekit samples a random million elements for the quantiles of a
 * larger tensor; here they are exact over every element, found by a two-pass radix select on the
 * importances' order-preserving keys (ties need no rule: only the value at a rank matters).
 * Memory: one float per row (its KL term), four 65,536-entry histograms (2 MiB), one row of both
 * inputs at a time for the softmax (up to a chunk; longer rows are streamed three times).
 * Passes: KL per row, two for the quantiles, one for the output.
 */
final class ArceeFusion extends BasePairMethod {
    private static final double EPS = 1e-8;

    ArceeFusion() {
        super("arcee_fusion", "https://arcee.ai",
                "exact quantiles (no sampling); softmax and KL per row in index order, StrictMath",
                List.of());
    }

    @Override
    void merge(TensorContext ctx, int a, int b) {
        long n = ctx.elements();
        if (n == 0) return;
        long[] shape = ctx.inputs().getFirst().tensor().info().shape();
        long row = shape.length == 0 ? 1 : shape[shape.length - 1];
        if (n / row > Integer.MAX_VALUE - 8) throw ctx.fail("too many rows for arcee_fusion (" + n / row + ")");
        float[] kl = new float[(int) (n / row)];
        for (int r = 0; r < kl.length; r++) kl[r] = kl(ctx, a, b, (long) r * row, row);

        int chunk = TensorContext.CHUNK;
        float[] xa = new float[chunk], xb = new float[chunk], imp = new float[chunk];
        long last = n - 1;
        long[] ranks = {last / 2, last / 4, 3 * last / 4};
        OrderSelect select = new OrderSelect(ranks);
        for (int pass = 0; pass < 2; pass++) {
            for (long c = 0; c < n; c += chunk) {
                int len = (int) Math.min(chunk, n - c);
                importance(ctx, a, b, c, len, row, kl, xa, xb, imp);
                if (pass == 0) select.countHigh(imp, len);
                else select.countLow(imp, len);
            }
            if (pass == 0) select.endHigh();
        }
        float median = select.value(0), q1 = select.value(1), q3 = select.value(2);
        float threshold = median + 1.5f * (q3 - q1);
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            importance(ctx, a, b, c, len, row, kl, xa, xb, imp);
            for (int i = 0; i < len; i++) {
                float mask = imp[i] >= threshold ? 1f : 0f;
                xa[i] = xa[i] + (xb[i] - xa[i]) * mask;
            }
            ctx.emit(c, xa, len);
        }
    }

    /** Loads both inputs into xa, xb and computes |xb − xa| · KL of the element's row. */
    private static void importance(TensorContext ctx, int a, int b, long c, int len, long row, float[] kl,
                                   float[] xa, float[] xb, float[] imp) {
        ctx.load(a, c, xa, len);
        ctx.load(b, c, xb, len);
        for (int i = 0; i < len; i++) imp[i] = Math.abs(xb[i] - xa[i]) * kl[(int) ((c + i) / row)];
    }

    /**
     * Σ p·log(p / q) over one row, p from the other model, q from the base, in double and
     * StrictMath (the same bits on every machine), summed in index order.
     */
    private static float kl(TensorContext ctx, int a, int b, long from, long len) {
        int chunk = TensorContext.CHUNK;
        float[] xa = new float[(int) Math.min(chunk, len)], xb = new float[xa.length];
        boolean resident = len <= chunk;
        if (resident) {
            ctx.load(a, from, xa, (int) len);
            ctx.load(b, from, xb, (int) len);
        }
        double maxA = Double.NEGATIVE_INFINITY, maxB = Double.NEGATIVE_INFINITY;
        for (long c = 0; c < len; c += chunk) {
            int l = window(ctx, a, b, from, c, len, xa, xb, resident);
            for (int i = 0; i < l; i++) {
                if (!Float.isFinite(xa[i]) || !Float.isFinite(xb[i])) {
                    throw ctx.fail(Float.isFinite(xa[i]) ? b : a, "element " + (from + c + i)
                            + " is NaN or infinite, so the softmax of its row is undefined");
                }
                maxA = Math.max(maxA, xa[i]);
                maxB = Math.max(maxB, xb[i]);
            }
        }
        double sumA = 0, sumB = 0;
        double[] ea = resident ? new double[xa.length] : null, eb = resident ? new double[xa.length] : null;
        for (long c = 0; c < len; c += chunk) {
            int l = window(ctx, a, b, from, c, len, xa, xb, resident);
            for (int i = 0; i < l; i++) {
                double da = StrictMath.exp(xa[i] - maxA), db = StrictMath.exp(xb[i] - maxB);
                if (resident) {
                    ea[i] = da;
                    eb[i] = db;
                }
                sumA += da;
                sumB += db;
            }
        }
        double kl = 0;
        for (long c = 0; c < len; c += chunk) {
            int l = window(ctx, a, b, from, c, len, xa, xb, resident);
            for (int i = 0; i < l; i++) {
                double p = (resident ? eb[i] : StrictMath.exp(xb[i] - maxB)) / sumB + EPS;
                double q = (resident ? ea[i] : StrictMath.exp(xa[i] - maxA)) / sumA + EPS;
                kl += p * StrictMath.log(p / q);
            }
        }
        return (float) kl;
    }

    private static int window(TensorContext ctx, int a, int b, long from, long c, long len, float[] xa, float[] xb,
                              boolean resident) {
        int l = (int) Math.min(xa.length, len - c);
        if (!resident) {
            ctx.load(a, from + c, xa, l);
            ctx.load(b, from + c, xb, l);
        }
        return l;
    }

    /**
     * Exact ranks in ascending order of value (rank 0 = smallest; NaN above +Inf, -0 as +0): a
     * radix select over order-preserving 32-bit keys, high 16 bits then low 16 bits.
     */
    static final class OrderSelect {
        private final long[] ranks;
        private final long[] high = new long[1 << 16];
        private final long[][] low;
        private final int[] bucket;
        private final long[] below;

        OrderSelect(long[] ranks) {
            this.ranks = ranks;
            this.low = new long[ranks.length][1 << 16];
            this.bucket = new int[ranks.length];
            this.below = new long[ranks.length];
        }

        /** An unsigned key that orders like the value. */
        static int key(float v) {
            if (Float.isNaN(v)) return -1; // 0xffffffff: above every number
            int bits = Float.floatToRawIntBits(v + 0f); // -0 + 0 = +0
            return bits >= 0 ? bits ^ 0x80000000 : ~bits;
        }

        static float fromKey(int key) {
            if (key == -1) return Float.NaN;
            return Float.intBitsToFloat(key < 0 ? key ^ 0x80000000 : ~key);
        }

        void countHigh(float[] x, int n) {
            for (int i = 0; i < n; i++) high[key(x[i]) >>> 16]++;
        }

        void endHigh() {
            for (int r = 0; r < ranks.length; r++) {
                long cum = 0;
                int bk = 0;
                while (cum + high[bk] <= ranks[r]) cum += high[bk++];
                bucket[r] = bk;
                below[r] = cum;
            }
        }

        void countLow(float[] x, int n) {
            for (int i = 0; i < n; i++) {
                int k = key(x[i]);
                for (int r = 0; r < ranks.length; r++) if (k >>> 16 == bucket[r]) low[r][k & 0xffff]++;
            }
        }

        /** The value at rank {@code ranks[r]}, after both passes. */
        float value(int r) {
            long cum = below[r];
            int lo = 0;
            while (cum + low[r][lo] <= ranks[r]) cum += low[r][lo++];
            return fromKey(bucket[r] << 16 | lo);
        }
    }
}
