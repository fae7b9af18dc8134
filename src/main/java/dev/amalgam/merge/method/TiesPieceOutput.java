package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.MergeKernels;

import java.lang.foreign.MemorySegment;

/**
 * TIES' output pass for BF16 task vectors, each kept whole or by a plain top-k, into BF16, in two
 * kernels per piece ({@link MergeKernels#maskedDeltaBf16} per task vector, {@link
 * MergeKernels#tiesCombineBf16}): for more than three task vectors, or rescaled ones.
 */
final class TiesPieceOutput implements OutputPass {
    static final TiesPieceOutput INSTANCE = new TiesPieceOutput();

    private TiesPieceOutput() {
    }

    @Override
    public void write(TaskVectors tv) {
        TensorContext ctx = tv.ctx();
        int m = tv.size();
        int[] thr = tv.thresholdKeys();
        long[] left = tv.tiesLeft();
        float[] weights = tv.weights(), rescale = tv.rescale();
        TaskVectors.Mix mix = tv.mix();
        // pieces of 2048 elements: the weighted task vectors (8 KiB each) stay in L1 between the
        // two kernels (measured 20 % faster than whole 8192-element chunks)
        int piece = TensorContext.CHUNK / 4;
        float[][] weighted = new float[m][piece];
        MemorySegment[] xs = new MemorySegment[m];
        MergeKernels k = ctx.kernels();
        var finish = new MergeKernels.TiesFinish(weights, m, mix.normalize(), mix.lambda());
        long n = ctx.elements();
        for (long w = 0; w < n; w += TensorContext.WINDOW) {
            int wlen = (int) Math.min(TensorContext.WINDOW, n - w);
            MemorySegment base = tv.windows(xs, w, wlen);
            for (int at = 0; at < wlen; at += piece) {
                int len = Math.min(piece, wlen - at);
                long c = w + at;
                for (int i = 0; i < m; i++) {
                    left[i] = k.maskedDeltaBf16(xs[i], base, at, thr[i], left[i], rescale[i], weights[i], weighted[i], len);
                }
                k.tiesCombineBf16(weighted, finish, base, at, ctx.reserve(c, len), 0, len);
                ctx.commit(c, len);
            }
        }
    }
}
