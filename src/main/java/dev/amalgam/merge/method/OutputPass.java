package dev.amalgam.merge.method;

/**
 * One way of writing a task-vector merge's output tensor. {@link #choose} is the one place that
 * picks the fast paths, each with the measurement that justifies it; every path writes the same
 * bytes as {@link StepwiseOutput} (the fused kernels are the same IEEE operations in the same
 * order, checked against their composition and their scalar twins bit for bit).
 */
sealed interface OutputPass permits TaskSumOutput, TiesWindowOutput, TiesPieceOutput, StepwiseOutput {
    void write(TaskVectors tv);

    /** The output pass for these task vectors. */
    static OutputPass choose(TaskVectors tv) {
        boolean consensus = tv.mix().consensus();
        // up to three: the vector kernels are unrolled for at most three task vectors, since C2
        // boxes a vector carried across an inner loop over inputs (see VectorKernels.tiesMix)
        boolean fewUnscaled = tv.size() <= 3 && tv.unscaled();
        if (!tv.allBf16()) return StepwiseOutput.INSTANCE;
        if (!consensus && tv.keptWhole() && fewUnscaled) {
            // task arithmetic in one kernel per window (a663bb4): amalgam bench task_arithmetic
            // bf16 at 0.94-0.97 of a memory copy on one thread (docs/benchmarks.md, 2026-11-27)
            return TaskSumOutput.INSTANCE;
        }
        if (consensus && tv.topKOrWhole()) {
            // TIES' output pass in one kernel per window, no intermediate arrays (f33d8f2):
            // bench ties 41 -> 29 ms on one thread
            if (fewUnscaled) return TiesWindowOutput.INSTANCE;
            // more task vectors, or rescaled: two kernels per piece of 2048 elements (c915066): the
            // weighted task vectors stay in L1 between them, measured 20 % faster than whole
            // 8192-element chunks
            return TiesPieceOutput.INSTANCE;
        }
        return StepwiseOutput.INSTANCE;
    }
}
