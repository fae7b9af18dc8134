package dev.amalgam.merge;

import java.util.Arrays;
import java.util.List;

/** Weighted average: Σ wᵢ·xᵢ, divided by Σ wᵢ when {@code normalize} (default). */
final class Linear implements MergeMethod {
    @Override
    public String name() {
        return "linear";
    }

    @Override
    public String reference() {
        return "https://arxiv.org/abs/2203.05482";
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(ParameterDef.bool("normalize", true, "divide by the sum of weights"));
    }

    @Override
    public List<ParameterDef> tensorParameters() {
        return List.of(ParameterDef.requiredNumber("weight", "weight of this model"));
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
        float[] acc = new float[TensorContext.CHUNK], x = new float[TensorContext.CHUNK];
        float[] div = new float[TensorContext.CHUNK];
        float total = 0f;
        for (int j = 0; j < m; j++) total = total + w[j];
        Arrays.fill(div, total);
        long n = ctx.elements();
        for (long c = 0; c < n; c += TensorContext.CHUNK) {
            int len = (int) Math.min(TensorContext.CHUNK, n - c);
            Arrays.fill(acc, 0, len, 0f);
            for (int j = 0; j < m; j++) {
                ctx.load(j, c, x, len);
                k.axpy(acc, x, w[j], len);
            }
            if (normalize) k.divide(acc, div, len);
            ctx.emit(c, acc, len);
        }
    }
}
