package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.safetensors.DType;

import java.util.Arrays;

/**
 * The output pass for every case: chunk by chunk, each task vector loaded, sparsified, rescaled and
 * weighted, then combined (TIES sign consensus or a plain sum), divided, scaled, added to the base
 * and written, one kernel call per step.
 */
final class StepwiseOutput implements OutputPass {
    static final StepwiseOutput INSTANCE = new StepwiseOutput();

    private StepwiseOutput() {
    }

    @Override
    public void write(TaskVectors tv) {
        TensorContext ctx = tv.ctx();
        MergeKernels k = ctx.kernels();
        TaskVectors.Mix mix = tv.mix();
        int m = tv.size(), chunk = TensorContext.CHUNK, baseIdx = ctx.baseIndex();
        int[] idx = tv.inputs();
        float[] weights = tv.weights(), rescale = tv.rescale();
        Sparsifier[] sp = tv.sparsifiers();
        float[] base = new float[chunk], mixed = new float[chunk], divisor = new float[chunk];
        float[][] delta = new float[m][chunk];
        if (!mix.consensus()) Arrays.fill(divisor, mix.weightSum());
        long n = ctx.elements();
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            ctx.load(baseIdx, c, base, len);
            for (int i = 0; i < m; i++) {
                ctx.loadDelta(idx[i], c, base, delta[i], len);
                sp[i].apply(delta[i], c, len, k);
                if (rescale[i] != 1f) k.scale(delta[i], rescale[i], len);
                k.scale(delta[i], weights[i], len);
            }
            if (mix.consensus()) {
                k.tiesMix(delta, weights, m, mixed, divisor, len);
            } else {
                System.arraycopy(delta[0], 0, mixed, 0, len);
                for (int i = 1; i < m; i++) k.add(mixed, delta[i], mixed, len);
            }
            DType out = ctx.directDtype();
            if (out != null) {
                // divided, scaled, added to the base and narrowed in one pass into the output buffer
                k.finishStore(mixed, mix.normalize() ? divisor : null, mix.lambda(), base, ctx.reserve(c, len), out, 0, len);
                ctx.commit(c, len);
                continue;
            }
            if (mix.normalize()) k.divide(mixed, divisor, len);
            if (mix.lambda() != 1f) k.scale(mixed, mix.lambda(), len);
            k.add(base, mixed, mixed, len);
            ctx.emit(c, mixed, len);
        }
    }
}
