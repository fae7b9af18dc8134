package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.Arrays;
import java.util.List;

/**
 * Model Stock: moves from the base towards the average of the fine-tunes by
 * t = N·cosθ / (1 + (N−1)·cosθ), θ the mean pairwise angle between their task vectors; per
 * row of the last dimension when {@code filter_wise}, else over the whole tensor.
 */
final class ModelStock extends DeclaredMethod {
    ModelStock() {
        super("model_stock", "https://arxiv.org/abs/2403.19522", true,
                "dot products in fixed chunk/lane order",
                List.of(ParameterDef.bool("filter_wise", false, "one angle per row instead of per tensor")),
                List.of());
    }

    @Override
    public String checkInputCount(int inputs, boolean hasBase) {
        return inputs >= 3 ? null : "model_stock needs the base model and at least two others, got " + inputs + " models";
    }

    @Override
    public void merge(TensorContext ctx) {
        if (ctx.size() == 1) {
            new Passthrough().merge(ctx);
            return;
        }
        if (ctx.size() < 3) throw ctx.fail("model_stock needs the base model and at least two others");
        long n = ctx.elements();
        long[] shape = ctx.inputs().getFirst().tensor().info().shape();
        long row = ctx.flag("filter_wise") && shape.length > 0 ? shape[shape.length - 1] : n;
        if (row == 0) row = Math.max(1, n);
        var buf = new Buffers(ctx.size(), TensorContext.CHUNK);
        for (long r = 0; r < n; r += row) segment(ctx, buf, r, Math.min(row, n - r));
    }

    private record Buffers(float[] base, float[][] off, float[] acc, float[] tmp, float[] div) {
        Buffers(int m, int chunk) {
            this(new float[chunk], new float[m][chunk], new float[chunk], new float[chunk], new float[chunk]);
        }
    }

    private static void segment(TensorContext ctx, Buffers b, long from, long len) {
        var k = ctx.kernels();
        int baseIdx = ctx.baseIndex();
        int m = ctx.size();
        int others = m - 1;
        double[][] dots = new double[m][m];
        for (long c = from; c < from + len; c += TensorContext.CHUNK) {
            int cl = (int) Math.min(TensorContext.CHUNK, from + len - c);
            ctx.load(baseIdx, c, b.base(), cl);
            int oi = 0;
            for (int j = 0; j < m; j++) {
                if (j == baseIdx) continue;
                ctx.load(j, c, b.tmp(), cl);
                k.sub(b.tmp(), b.base(), b.off()[oi++], cl);
            }
            for (int i = 0; i < others; i++) {
                for (int j = i; j < others; j++) dots[i][j] += k.dot(b.off()[i], b.off()[j], cl);
            }
        }
        double cosSum = 0;
        int pairs = 0;
        for (int i = 0; i < others; i++) {
            for (int j = i + 1; j < others; j++) {
                double normProduct = Math.sqrt(dots[i][i]) * Math.sqrt(dots[j][j]);
                double cos = dots[i][j] / Math.max(normProduct, 1e-6);
                cosSum += Math.max(-1, Math.min(1, cos));
                pairs++;
            }
        }
        double cos = cosSum / pairs;
        float t = (float) (others * cos / (1 + (others - 1) * cos));
        if (!Float.isFinite(t)) throw ctx.fail("model_stock ratio is not finite (inputs contain NaN or Inf?)");
        Arrays.fill(b.div(), (float) others);
        for (long c = from; c < from + len; c += TensorContext.CHUNK) {
            int cl = (int) Math.min(TensorContext.CHUNK, from + len - c);
            Arrays.fill(b.acc(), 0, cl, 0f);
            for (int j = 0; j < m; j++) {
                if (j == baseIdx) continue;
                ctx.load(j, c, b.tmp(), cl);
                k.add(b.acc(), b.tmp(), b.acc(), cl);
            }
            k.divide(b.acc(), b.div(), cl);
            k.scale(b.acc(), t, cl);
            ctx.load(baseIdx, c, b.base(), cl);
            k.axpy(b.acc(), b.base(), 1f - t, cl);
            ctx.emit(c, b.acc(), cl);
        }
    }
}
