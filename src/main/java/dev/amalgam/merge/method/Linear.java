package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/** Weighted average: Σ wᵢ·xᵢ, divided by Σ wᵢ when {@code normalize} (default). */
final class Linear extends DeclaredMethod {
    Linear() {
        super("linear", "https://arxiv.org/abs/2203.05482", false,
                "elementwise, fixed input order",
                List.of(ParameterDef.bool("normalize", true, "divide by the sum of weights")),
                List.of(ParameterDef.requiredNumber("weight", "weight of this model")));
    }

    @Override
    public boolean elementwise(java.util.Map<String, Object> globals) {
        return true;
    }

    @Override
    public void merge(TensorContext ctx) {
        int m = ctx.size();
        float[] w = new float[m];
        double sum = 0;
        for (int j = 0; j < m; j++) {
            w[j] = (float) ctx.number(j, "weight");
            sum += w[j];
        }
        boolean normalize = ctx.flag("normalize");
        if (normalize && sum == 0) throw ctx.fail("weights sum to zero, cannot normalize");
        var k = ctx.kernels();
        float total = 0f;
        for (int j = 0; j < m; j++) total = total + w[j];
        // one fused pass per chunk when all inputs share a dtype (the common case)
        MemorySegment[] src = new MemorySegment[m];
        DType dtype = ctx.dtype(0);
        boolean fused = true;
        for (int j = 0; j < m; j++) fused &= ctx.dtype(j) == dtype;
        // x / 1 is x exactly (signed zeros, infinities and NaN included): weights that already
        // sum to one skip the division
        boolean divide = normalize && total != 1f;
        long n = ctx.elements();
        // as long as one chunk at most: a small tensor (a norm's weight) does not pay for zeroing 32 KiB
        float[] acc = new float[(int) Math.min(TensorContext.CHUNK, n)], x = fused ? null : new float[acc.length];
        DType out = ctx.directDtype();
        if (fused && out != null) {
            // computed and narrowed in one pass, written straight into the output buffer; windows
            // and output fetched once per 16 chunks (per chunk, in-memory linear took 8.8-9.4 ms
            // in amalgam bench instead of 7.3-8.3)
            for (long from = 0; from < n; from += TensorContext.WINDOW) {
                int wlen = (int) Math.min(TensorContext.WINDOW, n - from);
                for (int j = 0; j < m; j++) src[j] = ctx.window(j, from, wlen);
                MemorySegment dst = ctx.reserve(from, wlen);
                for (int at = 0; at < wlen; at += TensorContext.CHUNK) {
                    int len = Math.min(TensorContext.CHUNK, wlen - at);
                    k.weightedMeanStore(src, dtype, at, w, m, divide, total, dst, out, at, acc, len);
                }
                ctx.commit(from, wlen);
            }
            return;
        }
        for (long c = 0; c < n; c += TensorContext.CHUNK) {
            int len = (int) Math.min(TensorContext.CHUNK, n - c);
            if (fused) for (int j = 0; j < m; j++) src[j] = ctx.window(j, c, len);
            if (fused && divide) {
                k.weightedMean(src, dtype, 0, w, m, total, acc, len);
            } else if (fused) {
                k.weightedSum(src, dtype, 0, w, m, acc, len);
            } else {
                Arrays.fill(acc, 0, len, 0f);
                for (int j = 0; j < m; j++) {
                    ctx.load(j, c, x, len);
                    k.axpy(acc, x, w[j], len);
                }
                if (divide) k.divide(acc, total, len);
            }
            ctx.emit(c, acc, len);
        }
    }
}
