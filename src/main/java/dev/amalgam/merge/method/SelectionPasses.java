package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.MagnitudeSelect;
import dev.amalgam.merge.kernel.SampledSelect;
import dev.amalgam.safetensors.DType;

/**
 * The passes that find the magnitude thresholds of the task vectors' bands before the output
 * pass: one rank over a large tensor (ties) by a sampled bracket and one counting pass
 * ({@link SampledSelect}); two radix passes for the rest (breadcrumbs' two ranks, small tensors,
 * missed brackets). Each pass reads chunk by chunk in index order.
 *
 * <p>The passes are methods of their own so that the JIT compiles each loop as a unit of its own:
 * as one method, C2 compiled all of them twice (on-stack and whole), 0.9 s of CPU in a TIES merge
 * of 1.9 GB models.
 */
final class SelectionPasses {
    private SelectionPasses() {
    }

    /** Finds every selection's thresholds; {@code sel[i]} is null where task vector i has none. */
    static void run(TensorContext ctx, int[] idx, MagnitudeSelection[] sel, float[] base, float[] tmp) {
        long n = ctx.elements();
        var k = ctx.kernels();
        SampledSelect[] sampled = new SampledSelect[sel.length];
        int[][] keys = new int[sel.length][];
        boolean anySampled = false;
        for (int i = 0; i < sel.length; i++) {
            if (sel[i] == null || sel[i].ranks.length != 1 || !SampledSelect.worthIt(n)) continue;
            sampled[i] = new SampledSelect(sel[i].ranks[0], n);
            keys[i] = new int[SampledSelect.BLOCKS * SampledSelect.BLOCK];
            anySampled = true;
        }
        if (anySampled) {
            sampleKeys(ctx, idx, sampled, keys, base, tmp);
            for (int i = 0; i < sel.length; i++) if (sampled[i] != null) sampled[i].begin(keys[i]);
            countBracketed(ctx, idx, sampled, base, tmp);
            for (int i = 0; i < sel.length; i++) if (sampled[i] != null) sel[i].sampled = sampled[i].threshold(k);
        }
        boolean any = false;
        for (MagnitudeSelection s : sel) {
            if (s != null && s.needsRadix()) {
                s.select.begin(s.ranks);
                any = true;
            }
        }
        if (any) radixPasses(ctx, idx, sel, base, tmp);
    }

    /** The sampled blocks' keys, read through the context (positional reads when streaming), the base once per block. */
    private static void sampleKeys(TensorContext ctx, int[] idx, SampledSelect[] sampled, int[][] keys, float[] base, float[] tmp) {
        long n = ctx.elements();
        int len = SampledSelect.BLOCK;
        for (int b = 0; b < SampledSelect.BLOCKS; b++) {
            long at = SampledSelect.samplePositions(n, b);
            ctx.load(ctx.baseIndex(), at, base, len);
            for (int i = 0; i < sampled.length; i++) {
                if (sampled[i] == null) continue;
                ctx.loadDelta(idx[i], at, base, tmp, len);
                for (int e = 0; e < len; e++) keys[i][b * len + e] = MagnitudeSelect.key(tmp[e]);
            }
        }
    }

    /** One counting pass of every sampled selection, window by window. */
    private static void countBracketed(TensorContext ctx, int[] idx, SampledSelect[] sampled, float[] base, float[] tmp) {
        long n = ctx.elements();
        int baseIdx = ctx.baseIndex();
        var k = ctx.kernels();
        for (long w = 0; w < n; w += TensorContext.WINDOW) {
            int wlen = (int) Math.min(TensorContext.WINDOW, n - w);
            for (int i = 0; i < sampled.length; i++) {
                if (sampled[i] == null) continue;
                if (ctx.dtype(idx[i]) == DType.BF16 && ctx.dtype(baseIdx) == DType.BF16) {
                    // the task vector's keys straight from the BF16 bytes, no F32 copies (the
                    // base's window is read once per window and served again from the buffer)
                    sampled[i].countDelta(ctx.window(idx[i], w, wlen), ctx.window(baseIdx, w, wlen), 0, wlen, k);
                    continue;
                }
                for (long c = w; c < w + wlen; c += TensorContext.CHUNK) {
                    int len = (int) Math.min(TensorContext.CHUNK, w + wlen - c);
                    ctx.load(baseIdx, c, base, len);
                    ctx.loadDelta(idx[i], c, base, tmp, len);
                    sampled[i].count(tmp, len, k);
                }
            }
        }
    }

    /** The two radix passes of every selection the sampling did not settle. */
    private static void radixPasses(TensorContext ctx, int[] idx, MagnitudeSelection[] sel, float[] base, float[] tmp) {
        long n = ctx.elements();
        int baseIdx = ctx.baseIndex();
        var k = ctx.kernels();
        for (int pass = 0; pass < 2; pass++) {
            for (long c = 0; c < n; c += TensorContext.CHUNK) {
                int len = (int) Math.min(TensorContext.CHUNK, n - c);
                ctx.load(baseIdx, c, base, len);
                for (int i = 0; i < sel.length; i++) {
                    if (sel[i] == null || !sel[i].needsRadix()) continue;
                    ctx.loadDelta(idx[i], c, base, tmp, len);
                    if (pass == 0) sel[i].select.countHigh(tmp, len);
                    else sel[i].select.countLow(tmp, len, k);
                }
            }
            if (pass == 0) for (MagnitudeSelection s : sel) if (s != null && s.needsRadix()) s.select.endHigh();
        }
    }
}
