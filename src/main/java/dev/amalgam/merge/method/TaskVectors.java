package dev.amalgam.merge.method;

import dev.amalgam.safetensors.DType;

import java.lang.foreign.MemorySegment;

/**
 * The task vectors of one output tensor as the output pass takes them: the inputs' indices in
 * {@code ctx}, their weights, fresh sparsifiers, L1 rescale factors (1 where not rescaled) and how
 * they are combined.
 */
record TaskVectors(TensorContext ctx, int[] inputs, float[] weights, Sparsifier[] sparsifiers, float[] rescale,
                   Mix mix) {

    /**
     * How the weighted task vectors are combined and finished: summed over the TIES sign
     * consensus or plainly, divided by the (agreeing) weights when {@code normalize}, scaled by
     * {@code lambda}; {@code weightSum} is the divisor without consensus.
     */
    record Mix(boolean consensus, boolean normalize, float lambda, float weightSum) {
    }

    int size() {
        return inputs.length;
    }

    boolean unscaled() {
        for (float r : rescale) if (r != 1f) return false;
        return true;
    }

    boolean keptWhole() {
        for (Sparsifier s : sparsifiers) if (!(s instanceof Sparsifier.KeepAll)) return false;
        return true;
    }

    /** Every task vector kept whole or by a plain top-k: what the BF16 TIES kernels' threshold expresses. */
    boolean topKOrWhole() {
        for (Sparsifier s : sparsifiers) {
            boolean ok = s instanceof Sparsifier.KeepAll || s instanceof Sparsifier.MagnitudeBand b && b.fusable();
            if (!ok) return false;
        }
        return true;
    }

    /** Every input and the output are BF16: the fused kernels' case. */
    boolean allBf16() {
        if (ctx.directDtype() != DType.BF16) return false;
        for (int i = 0; i < ctx.size(); i++) if (ctx.dtype(i) != DType.BF16) return false;
        return true;
    }

    /** Each task vector's threshold key for the fused kernels, -1 where it is kept whole. */
    int[] thresholdKeys() {
        int[] keys = new int[sparsifiers.length];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = sparsifiers[i] instanceof Sparsifier.MagnitudeBand b ? b.thresholdKey() : -1;
        }
        return keys;
    }

    /** Each task vector's quota of elements equal to its threshold key (0 where kept whole). */
    long[] tiesLeft() {
        long[] ties = new long[sparsifiers.length];
        for (int i = 0; i < ties.length; i++) {
            ties[i] = sparsifiers[i] instanceof Sparsifier.MagnitudeBand b ? b.tiesLeft() : 0;
        }
        return ties;
    }

    /** Window [w, w + wlen) of each task vector into xs; returns the base's. */
    MemorySegment windows(MemorySegment[] xs, long w, int wlen) {
        for (int i = 0; i < inputs.length; i++) xs[i] = ctx.window(inputs[i], w, wlen);
        return ctx.window(ctx.baseIndex(), w, wlen);
    }
}
