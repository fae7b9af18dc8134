package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.MagnitudeSelect;
import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;

/**
 * SCE (select, calculate, erase; mergekit's sce.py) over task vectors δᵢ = xᵢ − base:
 * <ol>
 * <li>select: with {@code select_topk} < 1, keep only the positions whose variance across the
 * δᵢ (population variance) is among the k = ⌊select_topk · #nonzero variances⌋ largest, zeroing
 * every δᵢ elsewhere (ties at the threshold: lowest index kept);</li>
 * <li>calculate: one weight per model, mean(δᵢ²) over the tensor, divided by the sum over models
 * (1/N each when that sum is below 1e-6);</li>
 * <li>erase: per element, keep the δᵢ whose sign agrees with the sign of Σ δᵢ (TIES election on
 * the unweighted deltas; zero counts as positive, a zero delta never agrees).</li>
 * </ol>
 * Output: base + Σ wᵢ·eᵢ·δᵢ / max(Σ wᵢ·eᵢ, 1e-6).
 *
 * <p>Streaming, memory one chunk per input: with selection, three passes find the variance
 * threshold (nonzero count, then a two-pass radix select); one pass sums the squares (dot
 * products in chunk order); one writes the output.
 */
final class Sce extends DeclaredMethod {
    private static final float MIN_DIVISOR = 1e-6f;

    /** Which positions survive the variance selection, applied chunk by chunk in index order. */
    private static final class Selection {
        boolean none;
        int key;
        long quota = Long.MAX_VALUE; // elements equal to the threshold key still kept
        float[] var = new float[TensorContext.CHUNK];

        /** The same selection with its tie quota unspent, for the next pass over the tensor. */
        Selection copy() {
            Selection s = new Selection();
            s.none = none;
            s.key = key;
            s.quota = quota;
            return s;
        }

        /** Zeroes (multiplies by zero) every δᵢ at the positions not selected. */
        void apply(float[][] d, int m, int len) {
            if (!none) variance(d, m, var, len);
            for (int e = 0; e < len; e++) {
                boolean keep;
                if (none) {
                    keep = false;
                } else {
                    int k = MagnitudeSelect.key(var[e]);
                    keep = k > key || (k == key && quota-- > 0);
                }
                if (!keep) for (int i = 0; i < m; i++) d[i][e] = d[i][e] * 0f;
            }
        }
    }

    Sce() {
        super("sce", "https://arxiv.org/abs/2408.07990", true,
                "exact top-k of the variance, ties at the threshold: lowest index kept; sums in fixed chunk/lane order",
                List.of(
                    ParameterDef.bool("int8_mask", false, "store masks as int8 (memory only; no effect on the result here)"),
                    ParameterDef.number("select_topk", 1.0, "fraction of positions (by variance across models) kept").between(0, 1)),
                List.of());
    }

    @Override
    public void merge(TensorContext ctx) {
        int base = ctx.baseIndex();
        if (base < 0) throw ctx.fail("sce needs a base_model");
        int[] idx = Gram.others(ctx, base);
        int m = idx.length;
        if (m == 0 || ctx.elements() == 0) {
            new Passthrough().merge(ctx);
            return;
        }
        double topk = ctx.number("select_topk");
        int chunk = TensorContext.CHUNK;
        float[] b = new float[chunk];
        float[][] d = new float[m][chunk];
        var k = ctx.kernels();

        double[] sumSq = new double[m];
        Selection sel = topk < 1 ? selection(ctx, idx, base, topk, b, d) : null;
        Selection pass = sel == null ? null : sel.copy();
        long n = ctx.elements();
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            deltas(ctx, idx, base, c, b, d, len);
            if (pass != null) pass.apply(d, m, len);
            for (int i = 0; i < m; i++) sumSq[i] += k.dot(d[i], d[i], len);
        }
        float[] w = new float[m];
        double total = 0;
        for (int i = 0; i < m; i++) {
            if (!Double.isFinite(sumSq[i])) throw ctx.fail(idx[i], "task vector contains NaN or Inf, so the sce weight is undefined");
            total += sumSq[i] / n;
        }
        for (int i = 0; i < m; i++) w[i] = (float) (Math.abs(total) < 1e-6 ? 1.0 / m : sumSq[i] / n / total);

        pass = sel == null ? null : sel.copy();
        float[] out = new float[chunk];
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            deltas(ctx, idx, base, c, b, d, len);
            if (pass != null) pass.apply(d, m, len);
            for (int e = 0; e < len; e++) {
                float sum = 0f;
                for (int i = 0; i < m; i++) sum = sum + d[i][e];
                boolean positive = sum >= 0f;
                float mixed = 0f, divisor = 0f;
                for (int i = 0; i < m; i++) {
                    float x = d[i][e];
                    float ew = (positive ? x > 0f : x < 0f) ? w[i] : 0f;
                    mixed = mixed + x * ew; // x · 0 keeps a NaN or Inf as NaN, as mergekit's mask product
                    divisor = divisor + ew;
                }
                out[e] = b[e] + mixed / Math.max(divisor, MIN_DIVISOR);
            }
            ctx.emit(c, out, len);
        }
    }

    /** Population variance across the m deltas, per element, in input order. */
    static void variance(float[][] d, int m, float[] var, int len) {
        for (int e = 0; e < len; e++) {
            float sum = 0f;
            for (int i = 0; i < m; i++) sum = sum + d[i][e];
            float mean = sum / m;
            float sq = 0f;
            for (int i = 0; i < m; i++) {
                float x = d[i][e] - mean;
                sq = sq + x * x;
            }
            var[e] = sq / m;
        }
    }

    private static Selection selection(TensorContext ctx, int[] idx, int base, double topk, float[] b, float[][] d) {
        Selection s = new Selection();
        if (topk <= 0) {
            s.none = true;
            return s;
        }
        int m = idx.length;
        long n = ctx.elements();
        float[] var = s.var;
        long nonzero = 0;
        for (long c = 0; c < n; c += TensorContext.CHUNK) {
            int len = (int) Math.min(TensorContext.CHUNK, n - c);
            deltas(ctx, idx, base, c, b, d, len);
            variance(d, m, var, len);
            for (int e = 0; e < len; e++) if (var[e] != 0f) nonzero++; // a NaN counts, as torch.count_nonzero
        }
        // mergekit multiplies the count (a tensor) by the fraction in float32 before truncating
        long keep = (long) ((float) nonzero * (float) topk);
        if (keep <= 0) {
            s.none = true;
            return s;
        }
        if (keep >= n) {
            s.key = -1; // every key is above: keep all
            return s;
        }
        MagnitudeSelect select = new MagnitudeSelect();
        select.begin(keep - 1);
        for (int pass = 0; pass < 2; pass++) {
            for (long c = 0; c < n; c += TensorContext.CHUNK) {
                int len = (int) Math.min(TensorContext.CHUNK, n - c);
                deltas(ctx, idx, base, c, b, d, len);
                variance(d, m, var, len);
                if (pass == 0) select.countHigh(var, len);
                else select.countLow(var, len);
            }
            if (pass == 0) select.endHigh();
        }
        MagnitudeSelect.Threshold t = select.threshold(0);
        s.key = t.key();
        s.quota = keep - t.above();
        return s;
    }

    private static void deltas(TensorContext ctx, int[] idx, int base, long c, float[] b, float[][] d, int len) {
        ctx.load(base, c, b, len);
        for (int i = 0; i < idx.length; i++) {
            ctx.loadDelta(idx[i], c, b, d[i], len);
        }
    }
}
