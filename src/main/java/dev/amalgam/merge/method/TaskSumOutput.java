package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.MergeKernels;

import java.lang.foreign.MemorySegment;

/** Task arithmetic over BF16 task vectors kept whole, into BF16: one {@link MergeKernels#taskSumStoreBf16} per window. */
final class TaskSumOutput implements OutputPass {
    static final TaskSumOutput INSTANCE = new TaskSumOutput();

    private TaskSumOutput() {
    }

    @Override
    public void write(TaskVectors tv) {
        // a whole window per call: the kernel needs no scratch, and windows and output fetched
        // once per window keep the input streams going (see Linear)
        TensorContext ctx = tv.ctx();
        MergeKernels k = ctx.kernels();
        TaskVectors.Mix mix = tv.mix();
        int m = tv.size();
        MemorySegment[] xs = new MemorySegment[m];
        var sum = new MergeKernels.TaskSum(tv.weights(), m, mix.normalize(), mix.weightSum(), mix.lambda());
        long n = ctx.elements();
        for (long from = 0; from < n; from += TensorContext.WINDOW) {
            int wlen = (int) Math.min(TensorContext.WINDOW, n - from);
            MemorySegment baseWindow = tv.windows(xs, from, wlen);
            k.taskSumStoreBf16(baseWindow, xs, 0, sum, ctx.reserve(from, wlen), 0, wlen);
            ctx.commit(from, wlen);
        }
    }
}
