package dev.amalgam.merge.kernel;

import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.FloatFormats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The reference implementation: plain loops, always available, the one the vector code must equal. */
public final class ScalarKernels implements MergeKernels {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void load(MemorySegment src, DType dtype, long fromElem, float[] dst, int n) {
        loadTail(src, dtype, fromElem, dst, 0, n);
    }

    /** Shared by the vector implementation for its tails and for F16/F32. */
    static void loadTail(MemorySegment src, DType dtype, long fromElem, float[] dst, int start, int n) {
        switch (dtype) {
            case BF16 -> {
                for (int i = start; i < n; i++) dst[i] = FloatFormats.bf16ToF32(src.getAtIndex(SHORT, fromElem + i));
            }
            case F16 -> {
                for (int i = start; i < n; i++) dst[i] = FloatFormats.f16ToF32(src.getAtIndex(SHORT, fromElem + i));
            }
            case F32 -> MemorySegment.copy(src, FLOAT, (fromElem + start) * 4, dst, start, n - start);
            default -> throw new IllegalArgumentException("cannot compute on " + dtype);
        }
    }

    @Override
    public void store(float[] src, int n, MemorySegment dst, DType dtype, long fromElem) {
        storeTail(src, 0, n, dst, dtype, fromElem);
    }

    @Override
    public void convert(MemorySegment src, DType from, MemorySegment dst, DType to, int n) {
        convertTail(src, from, dst, to, 0, n);
    }

    static void convertTail(MemorySegment src, DType from, MemorySegment dst, DType to, int start, int n) {
        if (!from.isMergeFloat() || !to.isMergeFloat()) throw new IllegalArgumentException("cannot convert " + from + " to " + to);
        for (int i = start; i < n; i++) {
            float f = switch (from) {
                case BF16 -> FloatFormats.bf16ToF32(src.getAtIndex(SHORT, i));
                case F16 -> FloatFormats.f16ToF32(src.getAtIndex(SHORT, i));
                default -> src.getAtIndex(FLOAT, i);
            };
            switch (to) {
                case BF16 -> dst.setAtIndex(SHORT, i, FloatFormats.f32ToBf16(f));
                case F16 -> dst.setAtIndex(SHORT, i, FloatFormats.f32ToF16(f));
                default -> dst.setAtIndex(INT, i, FloatFormats.f32Bits(f));
            }
        }
    }

    static void storeTail(float[] src, int start, int n, MemorySegment dst, DType dtype, long fromElem) {
        switch (dtype) {
            case BF16 -> {
                for (int i = start; i < n; i++) dst.setAtIndex(SHORT, fromElem + i, FloatFormats.f32ToBf16(src[i]));
            }
            case F16 -> {
                for (int i = start; i < n; i++) dst.setAtIndex(SHORT, fromElem + i, FloatFormats.f32ToF16(src[i]));
            }
            case F32 -> {
                for (int i = start; i < n; i++) dst.setAtIndex(INT, fromElem + i, FloatFormats.f32Bits(src[i]));
            }
            default -> throw new IllegalArgumentException("cannot write " + dtype);
        }
    }

    @Override
    public void axpy(float[] acc, float[] x, float w, int n) {
        for (int i = 0; i < n; i++) acc[i] = acc[i] + w * x[i];
    }

    @Override
    public void mulAdd(float[] acc, float[] w, float[] x, int n) {
        for (int i = 0; i < n; i++) acc[i] = acc[i] + w[i] * x[i];
    }

    @Override
    public void weightedSum(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m, float[] out, int n) {
        weightedSumTail(src, dtype, fromElem, w, m, out, 0, n);
    }

    static void weightedSumTail(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m, float[] out, int start, int n) {
        for (int i = start; i < n; i++) {
            float acc = 0f;
            for (int j = 0; j < m; j++) acc = acc + w[j] * element(src[j], dtype, fromElem + i);
            out[i] = acc;
        }
    }

    private static float element(MemorySegment s, DType dtype, long i) {
        return switch (dtype) {
            case BF16 -> FloatFormats.bf16ToF32(s.getAtIndex(SHORT, i));
            case F16 -> FloatFormats.f16ToF32(s.getAtIndex(SHORT, i));
            case F32 -> s.getAtIndex(FLOAT, i);
            default -> throw new IllegalArgumentException("cannot compute on " + dtype);
        };
    }

    @Override
    public void weightedMean(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m, float divisor, float[] out, int n) {
        weightedSumTail(src, dtype, fromElem, w, m, out, 0, n);
        divide(out, divisor, n);
    }

    @Override
    public void divide(float[] x, float d, int n) {
        for (int i = 0; i < n; i++) x[i] = x[i] / d;
    }

    @Override
    public void dropout(float[] x, int n, long fromElem, long key, float density) {
        dropoutTail(x, 0, n, fromElem, key, density);
    }

    static void dropoutTail(float[] x, int from, int n, long fromElem, long key, float density) {
        for (int i = from; i < n; i++) {
            if (CounterRandom.uniform(key, fromElem + i) >= density) x[i] = x[i] * 0f;
        }
    }

    @Override
    public long keepTop(float[] x, int n, int thresholdKey, long tiesLeft) {
        return keepTopTail(x, 0, n, thresholdKey, tiesLeft);
    }

    static long keepTopTail(float[] x, int start, int n, int thresholdKey, long tiesLeft) {
        for (int i = start; i < n; i++) {
            int k = MagnitudeSelect.key(x[i]);
            if (k > thresholdKey) continue;
            if (k == thresholdKey && tiesLeft > 0) {
                tiesLeft--;
                continue;
            }
            x[i] = x[i] * 0f;
        }
        return tiesLeft;
    }

    @Override
    public void countInBucket(float[] x, int n, int bucket, long[] low) {
        countInBucketTail(x, 0, n, bucket, low);
    }

    @Override
    public void bracket(float[] x, int n, int loKey, int hiKey, float[] out, long[] state) {
        bracketTail(x, 0, n, loKey, hiKey, out, state);
    }

    static void bracketTail(float[] x, int start, int n, int loKey, int hiKey, float[] out, long[] state) {
        long above = state[0], eqHi = state[2], eqLo = state[3];
        int pos = (int) state[1];
        for (int i = start; i < n; i++) {
            int k = MagnitudeSelect.key(x[i]);
            if (k > hiKey) above++;
            else if (k == hiKey) eqHi++;
            else if (k == loKey) eqLo++;
            else if (k > loKey) out[pos++] = Float.intBitsToFloat(k);
        }
        state[0] = above;
        state[1] = pos;
        state[2] = eqHi;
        state[3] = eqLo;
    }

    static void countInBucketTail(float[] x, int start, int n, int bucket, long[] low) {
        for (int i = start; i < n; i++) {
            int k = MagnitudeSelect.key(x[i]);
            if (k >>> 16 == bucket) low[k & 0xffff]++;
        }
    }

    @Override
    public void sub(float[] a, float[] b, float[] out, int n) {
        for (int i = 0; i < n; i++) out[i] = a[i] - b[i];
    }

    @Override
    public void add(float[] a, float[] b, float[] out, int n) {
        for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
    }

    @Override
    public void scale(float[] x, float s, int n) {
        for (int i = 0; i < n; i++) x[i] = x[i] * s;
    }

    @Override
    public void divide(float[] x, float[] d, int n) {
        for (int i = 0; i < n; i++) x[i] = x[i] / d[i];
    }

    @Override
    public void tiesMix(float[][] weighted, float[] weights, int m, float[] mixed, float[] divisor, int n) {
        tiesMixTail(weighted, weights, m, mixed, divisor, 0, n);
    }

    static void tiesMixTail(float[][] weighted, float[] weights, int m, float[] mixed, float[] divisor, int start, int n) {
        for (int i = start; i < n; i++) {
            float sum = 0f;
            for (int j = 0; j < m; j++) sum = sum + weighted[j][i];
            boolean positive = sum >= 0f;
            float mix = 0f;
            float div = 0f;
            for (int j = 0; j < m; j++) {
                float d = weighted[j][i];
                if (positive ? d > 0f : d < 0f) {
                    mix = mix + d;
                    div = div + weights[j];
                }
            }
            mixed[i] = mix;
            divisor[i] = div == 0f ? 1f : div;
        }
    }

    @Override
    public double sumAbs(float[] x, int n) {
        float[] acc = new float[LANES];
        for (int i = 0; i < n; i++) acc[i % LANES] = acc[i % LANES] + Math.abs(x[i]);
        return lanes(acc, n);
    }

    @Override
    public double dot(float[] a, float[] b, int n) {
        float[] acc = new float[LANES];
        for (int i = 0; i < n; i++) acc[i % LANES] = acc[i % LANES] + a[i] * b[i];
        return lanes(acc, n);
    }

    /**
     * Sums the lanes in order. A vector implementation adds a zero to lanes past the tail;
     * do the same here so -0 sums agree.
     */
    private static double lanes(float[] acc, int n) {
        int rem = n % LANES;
        if (rem != 0) {
            for (int l = rem; l < LANES; l++) acc[l] = acc[l] + 0f;
        }
        double total = 0;
        for (int l = 0; l < LANES; l++) total += acc[l];
        return total;
    }

    @Override
    public void bracketDeltaBf16(MemorySegment x, MemorySegment base, long fromElem, int n, int loKey, int hiKey,
                                 float[] out, long[] state) {
        bracketDeltaTail(x, base, fromElem, 0, n, loKey, hiKey, out, state);
    }

    /**
     * The fused BF16 kernels below are, by construction, the separate kernels one after the other
     * (the vector implementation must equal exactly that); each works on elements [start, n),
     * the vector loop's tail.
     */
    private static final ScalarKernels TWIN = new ScalarKernels();

    /** Base and task vector (x − base) of BF16 elements [from, from + len), widened. */
    private static float[][] baseAndDelta(MemorySegment x, MemorySegment base, long from, int len) {
        float[] b = new float[len], d = new float[len];
        TWIN.load(base, DType.BF16, from, b, len);
        TWIN.loadDelta(x, DType.BF16, from, b, d, len);
        return new float[][]{b, d};
    }

    static void bracketDeltaTail(MemorySegment x, MemorySegment base, long fromElem, int start, int n, int loKey,
                                 int hiKey, float[] out, long[] state) {
        int len = n - start;
        if (len <= 0) return;
        bracketTail(baseAndDelta(x, base, fromElem + start, len)[1], 0, len, loKey, hiKey, out, state);
    }

    @Override
    public long maskedDeltaBf16(MemorySegment x, MemorySegment base, long fromElem, int thrKey, long tiesLeft,
                                float rescale, float weight, float[] out, int n) {
        return maskedDeltaTail(x, base, fromElem, thrKey, tiesLeft, rescale, weight, out, 0, n);
    }

    static long maskedDeltaTail(MemorySegment x, MemorySegment base, long fromElem, int thrKey, long tiesLeft,
                                float rescale, float weight, float[] out, int start, int n) {
        int len = n - start;
        if (len <= 0) return tiesLeft;
        float[] d = baseAndDelta(x, base, fromElem + start, len)[1];
        long left = keepTopTail(d, 0, len, thrKey, tiesLeft); // a key of -1 keeps every element
        if (rescale != 1f) TWIN.scale(d, rescale, len);
        TWIN.scale(d, weight, len);
        System.arraycopy(d, 0, out, start, len);
        return left;
    }

    @Override
    public void tiesCombineBf16(float[][] weighted, TiesFinish finish, MemorySegment base, long fromElem,
                                MemorySegment dst, long dstElem, int n) {
        float[] weights = finish.weights();
        int m = finish.m();
        boolean normalize = finish.normalize();
        float lambda = finish.lambda();
        tiesCombineTail(weighted, weights, m, base, fromElem, normalize, lambda, dst, dstElem, 0, n);
    }

    static void tiesCombineTail(float[][] weighted, float[] weights, int m, MemorySegment base, long fromElem,
                                boolean normalize, float lambda, MemorySegment dst, long dstElem, int start, int n) {
        int len = n - start;
        if (len <= 0) return;
        float[][] w = new float[m][];
        for (int j = 0; j < m; j++) w[j] = java.util.Arrays.copyOfRange(weighted[j], start, n);
        float[] mixed = new float[len], divisor = new float[len], b = new float[len];
        tiesMixTail(w, weights, m, mixed, divisor, 0, len);
        TWIN.load(base, DType.BF16, fromElem + start, b, len);
        TWIN.finishStore(mixed, normalize ? divisor : null, lambda, b, dst, DType.BF16, dstElem + start, len);
    }

    @Override
    public void tiesOutputBf16(MemorySegment base, MemorySegment[] xs, long fromElem, int[] thrKeys, long[] tiesLeft,
                               TiesFinish finish, MemorySegment dst, long dstElem, int n) {
        float[] weights = finish.weights();
        int m = finish.m();
        boolean normalize = finish.normalize();
        float lambda = finish.lambda();
        tiesOutputTail(base, xs, m, fromElem, thrKeys, tiesLeft, weights, normalize, lambda, dst, dstElem, 0, n);
    }

    static void tiesOutputTail(MemorySegment base, MemorySegment[] xs, int m, long fromElem, int[] thrKeys, long[] tiesLeft,
                               float[] weights, boolean normalize, float lambda, MemorySegment dst, long dstElem,
                               int start, int n) {
        if (n <= start) return;
        // in blocks, in element order (the tie quotas run in that order): the scratch stays a few
        // blocks' size however long the call (the executor passes whole windows)
        float[][] weighted = new float[m][Math.min(n - start, TIES_BLOCK)];
        for (int at = start; at < n; at += TIES_BLOCK) {
            int len = Math.min(TIES_BLOCK, n - at);
            for (int j = 0; j < m; j++) {
                tiesLeft[j] = maskedDeltaTail(xs[j], base, fromElem + at, thrKeys[j], tiesLeft[j], 1f, weights[j],
                        weighted[j], 0, len);
            }
            tiesCombineTail(weighted, weights, m, base, fromElem + at, normalize, lambda, dst, dstElem + at, 0, len);
        }
    }

    /** Elements per block of {@link #tiesOutputTail}. */
    static final int TIES_BLOCK = 8192;

    @Override
    public long sumWords(MemorySegment[] src, int m, long words) {
        return sumWordsTail(src, m, 0, words);
    }

    static long sumWordsTail(MemorySegment[] src, int m, long from, long words) {
        long sum = 0;
        for (long i = from; i < words; i++) {
            for (int j = 0; j < m; j++) sum += src[j].getAtIndex(WORD, i);
        }
        return sum;
    }

    private static final java.lang.foreign.ValueLayout.OfLong WORD =
            java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    @Override
    public void taskSumStoreBf16(MemorySegment base, MemorySegment[] xs, long fromElem, TaskSum sum,
                                 MemorySegment dst, long dstElem, int n) {
        float[] weights = sum.weights();
        int m = sum.m();
        boolean divide = sum.divide();
        float divisor = sum.divisor();
        float lambda = sum.lambda();
        taskSumTail(base, xs, m, fromElem, weights, divide, divisor, lambda, dst, dstElem, 0, n);
    }

    static void taskSumTail(MemorySegment base, MemorySegment[] xs, int m, long fromElem, float[] weights,
                            boolean divide, float divisor, float lambda, MemorySegment dst, long dstElem, int start, int n) {
        int len = n - start;
        if (len <= 0) return;
        float[] b = new float[len], mixed = null;
        TWIN.load(base, DType.BF16, fromElem + start, b, len);
        for (int j = 0; j < m; j++) {
            float[] d = new float[len];
            TWIN.loadDelta(xs[j], DType.BF16, fromElem + start, b, d, len);
            TWIN.scale(d, weights[j], len);
            if (mixed == null) mixed = d;
            else TWIN.add(mixed, d, mixed, len);
        }
        float[] div = null;
        if (divide) {
            div = new float[len];
            java.util.Arrays.fill(div, divisor);
        }
        TWIN.finishStore(mixed, div, lambda, b, dst, DType.BF16, dstElem + start, len);
    }
}
