package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.MergeKernels;

import java.lang.foreign.MemorySegment;

/**
 * TIES' output pass for up to three unscaled BF16 task vectors, each kept whole or by a plain
 * top-k, into BF16: one {@link MergeKernels#tiesOutputBf16} per window, no intermediate arrays.
 */
final class TiesWindowOutput implements OutputPass {
    static final TiesWindowOutput INSTANCE = new TiesWindowOutput();

    private TiesWindowOutput() {
    }

    @Override
    public void write(TaskVectors tv) {
        TensorContext ctx = tv.ctx();
        int[] thr = tv.thresholdKeys();
        long[] left = tv.tiesLeft();
        MemorySegment[] xs = new MemorySegment[tv.size()];
        MergeKernels k = ctx.kernels();
        TaskVectors.Mix mix = tv.mix();
        var finish = new MergeKernels.TiesFinish(tv.weights(), tv.size(), mix.normalize(), mix.lambda());
        long n = ctx.elements();
        // a whole window per call (the kernel needs no scratch), as task arithmetic's plain sum
        for (long w = 0; w < n; w += TensorContext.WINDOW) {
            int wlen = (int) Math.min(TensorContext.WINDOW, n - w);
            MemorySegment base = tv.windows(xs, w, wlen);
            k.tiesOutputBf16(base, xs, 0, thr, left, finish, ctx.reserve(w, wlen), 0, wlen);
            ctx.commit(w, wlen);
        }
    }
}
