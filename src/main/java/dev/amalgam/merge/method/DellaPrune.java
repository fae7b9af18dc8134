package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.CounterRandom;
import dev.amalgam.merge.kernel.MagnitudeSelect;

import java.util.Arrays;

/**
 * DELLA's MagPrune (mergekit's sparsify.della_magprune) for one task vector: within each group
 * of elements ranked together, the element of magnitude rank r (0 = smallest, of L) is kept with
 * probability (density − ε) + 2ε·r/(L − 1), dropped elements multiplied by zero. As mergekit, a
 * group runs along dimension 1 (after a 1-D tensor is treated as one row): for a matrix, its
 * rows. Equal magnitudes rank by index, the lower index as the larger (the tie rule of the magnitude
 * selections). The draw for element e is {@link CounterRandom#uniform}(e) of the stream keyed
 * by random_seed, tensor name and input: independent of chunking and threads.
 *
 * <p>Memory: one slab (all elements sharing a first index; the whole tensor when it is 1-D), as
 * two floats, a long and a boolean per element; slabs are computed as the chunks reach them.
 */
final class DellaPrune {
    private final TensorContext ctx;
    private final int input;
    private final int base;
    private final double low;
    private final double span;
    private final CounterRandom random;
    private final int slab;
    private final int groupLen;
    private final int stride;
    private final float[] x;
    private final float[] b;
    private final long[] keys;
    private final boolean[] keep;
    private long current = -1;

    DellaPrune(TensorContext ctx, int input, int ordinal, double density, double epsilon) {
        this.ctx = ctx;
        this.input = input;
        this.base = ctx.baseIndex();
        this.low = density - epsilon;
        this.span = 2 * epsilon;
        this.random = new CounterRandom(ctx.seed(), ctx.name(), ordinal);
        long n = ctx.elements();
        long[] shape = ctx.inputs().get(input).tensor().info().shape();
        long slabLen = shape.length < 2 ? n : n / shape[0];
        long group = shape.length < 2 ? n : shape[1];
        if (slabLen > Integer.MAX_VALUE - 8) {
            throw ctx.fail(input, "della ranks " + slabLen + " elements at once, more than this engine holds in memory");
        }
        this.slab = (int) slabLen;
        this.groupLen = (int) group;
        this.stride = groupLen == 0 ? 1 : slab / groupLen;
        this.x = new float[slab];
        this.b = new float[slab];
        this.keys = new long[groupLen];
        this.keep = new boolean[slab];
    }

    /** Multiplies the dropped elements of {@code delta} (elements [from, from + len)) by zero. */
    void apply(float[] delta, long from, int len) {
        int i = 0;
        while (i < len) {
            long e = from + i;
            long s = e / slab;
            if (s != current) compute(s);
            int at = (int) (e - s * slab);
            int run = Math.min(len - i, slab - at);
            for (int j = 0; j < run; j++) if (!keep[at + j]) delta[i + j] = delta[i + j] * 0f;
            i += run;
        }
    }

    private void compute(long s) {
        long start = s * slab;
        ctx.load(base, start, b, slab);
        ctx.load(input, start, x, slab);
        ctx.kernels().sub(x, b, x, slab);
        for (int r = 0; r < stride; r++) {
            // group r: elements r, r + stride, ...; sorted ascending by (magnitude, then higher index first)
            for (int j = 0; j < groupLen; j++) {
                int at = r + j * stride;
                keys[j] = (long) MagnitudeSelect.key(x[at]) << 32 | (0xffffffffL - j);
            }
            Arrays.sort(keys);
            for (int rank = 0; rank < groupLen; rank++) {
                int j = (int) (0xffffffffL - (keys[rank] & 0xffffffffL));
                int at = r + j * stride;
                // one element alone in its group: mergekit divides 0 by 0; take the middle probability
                double norm = groupLen == 1 ? 0.5 : (double) rank / (groupLen - 1);
                double p = low + norm * span;
                keep[at] = random.uniform(start + at) < p;
            }
        }
        current = s;
    }
}
