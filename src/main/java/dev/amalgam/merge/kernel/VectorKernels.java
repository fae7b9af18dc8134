package dev.amalgam.merge.kernel;

import dev.amalgam.safetensors.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector API kernels ({@code FloatVector.SPECIES_PREFERRED}). Loops run to
 * {@code loopBound(n)} and finish with the scalar twin's code, so results equal
 * {@link ScalarKernels} bit for bit. F16 conversion has no vector operator in this JDK and runs
 * the scalar loop (the JIT intrinsifies {@code Float.float16ToFloat}).
 */
final class VectorKernels implements MergeKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ScalarKernels SCALAR = new ScalarKernels();

    @Override
    public String name() {
        return "vector-" + F.length() + "x32";
    }

    @Override
    public void load(MemorySegment src, DType dtype, long fromElem, float[] dst, int n) {
        if (dtype != DType.BF16) {
            ScalarKernels.loadTail(src, dtype, fromElem, dst, 0, n);
            return;
        }
        int bound = F.loopBound(n);
        long base = fromElem * 2;
        int i = 0;
        for (; i < bound; i += F.length()) {
            ShortVector s = ShortVector.fromMemorySegment(S, src, base + 2L * i, LE);
            bf16ToF32(s).intoArray(dst, i);
        }
        ScalarKernels.loadTail(src, dtype, fromElem, dst, i, n);
    }

    /** Sign-extension by S2I is harmless: the shift pushes those bits out. */
    private static FloatVector bf16ToF32(ShortVector s) {
        IntVector v = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    @Override
    public void store(float[] src, int n, MemorySegment dst, DType dtype, long fromElem) {
        if (dtype != DType.BF16) {
            ScalarKernels.storeTail(src, 0, n, dst, dtype, fromElem);
            return;
        }
        int bound = F.loopBound(n);
        long base = fromElem * 2;
        int i = 0;
        for (; i < bound; i += F.length()) {
            f32ToBf16(FloatVector.fromArray(F, src, i)).intoMemorySegment(dst, base + 2L * i, LE);
        }
        ScalarKernels.storeTail(src, i, n, dst, dtype, fromElem);
    }

    /** Round to nearest even by adding 0x7fff + lsb; NaN keeps its top bits with the quiet bit set. */
    private static ShortVector f32ToBf16(FloatVector f) {
        IntVector b = f.reinterpretAsInts();
        IntVector lsb = b.lanewise(VectorOperators.LSHR, 16).and(1);
        IntVector rounded = b.add(lsb.add(0x7fff)).lanewise(VectorOperators.LSHR, 16);
        VectorMask<Integer> nan = b.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
        IntVector quiet = b.lanewise(VectorOperators.LSHR, 16).or(0x40);
        return (ShortVector) rounded.blend(quiet, nan).convertShape(VectorOperators.I2S, S, 0);
    }

    @Override
    public void axpy(float[] acc, float[] x, float w, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector a = FloatVector.fromArray(F, acc, i);
            a.add(FloatVector.fromArray(F, x, i).mul(w)).intoArray(acc, i);
        }
        for (; i < n; i++) acc[i] = acc[i] + w * x[i];
    }

    @Override
    public void weightedSum(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m, float[] out, int n) {
        if (dtype != DType.BF16) {
            ScalarKernels.weightedSumTail(src, dtype, fromElem, w, m, out, 0, n);
            return;
        }
        int bound = F.loopBound(n);
        long base = fromElem * 2;
        int i = 0;
        FloatVector zero = FloatVector.zero(F);
        for (; i < bound; i += F.length()) {
            FloatVector acc = zero;
            for (int j = 0; j < m; j++) {
                FloatVector x = bf16ToF32(ShortVector.fromMemorySegment(S, src[j], base + 2L * i, LE));
                acc = acc.add(x.mul(w[j]));
            }
            acc.intoArray(out, i);
        }
        ScalarKernels.weightedSumTail(src, dtype, fromElem, w, m, out, i, n);
    }

    @Override
    public void divide(float[] x, float d, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) FloatVector.fromArray(F, x, i).div(d).intoArray(x, i);
        for (; i < n; i++) x[i] = x[i] / d;
    }

    @Override
    public long keepTop(float[] x, int n, int thresholdKey, long tiesLeft) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            IntVector key = v.reinterpretAsInts().and(0x7fffffff);
            if (key.compare(VectorOperators.EQ, thresholdKey).anyTrue()) {
                // ties need index order and a running count: this block goes the scalar way
                tiesLeft = ScalarKernels.keepTopTail(x, i, i + F.length(), thresholdKey, tiesLeft);
                continue;
            }
            VectorMask<Float> drop = key.compare(VectorOperators.LT, thresholdKey).cast(F);
            v.blend(v.mul(0f), drop).intoArray(x, i);
        }
        return ScalarKernels.keepTopTail(x, i, n, thresholdKey, tiesLeft);
    }

    @Override
    public void countInBucket(float[] x, int n, int bucket, long[] low) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            IntVector hb = FloatVector.fromArray(F, x, i).reinterpretAsInts().and(0x7fffffff)
                    .lanewise(VectorOperators.LSHR, 16);
            if (hb.compare(VectorOperators.EQ, bucket).anyTrue()) {
                ScalarKernels.countInBucketTail(x, i, i + F.length(), bucket, low);
            }
        }
        ScalarKernels.countInBucketTail(x, i, n, bucket, low);
    }

    @Override
    public void sub(float[] a, float[] b, float[] out, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, a, i).sub(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        }
        for (; i < n; i++) out[i] = a[i] - b[i];
    }

    @Override
    public void add(float[] a, float[] b, float[] out, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
        }
        for (; i < n; i++) out[i] = a[i] + b[i];
    }

    @Override
    public void scale(float[] x, float s, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, i).mul(s).intoArray(x, i);
        }
        for (; i < n; i++) x[i] = x[i] * s;
    }

    @Override
    public void divide(float[] x, float[] d, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, i).div(FloatVector.fromArray(F, d, i)).intoArray(x, i);
        }
        for (; i < n; i++) x[i] = x[i] / d[i];
    }

    @Override
    public void tiesMix(float[][] weighted, float[] weights, int m, float[] mixed, float[] divisor, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        FloatVector zero = FloatVector.zero(F);
        FloatVector one = FloatVector.broadcast(F, 1f);
        for (; i < bound; i += F.length()) {
            FloatVector sum = zero;
            for (int j = 0; j < m; j++) sum = sum.add(FloatVector.fromArray(F, weighted[j], i));
            VectorMask<Float> positive = sum.compare(VectorOperators.GE, 0f);
            FloatVector mix = zero;
            FloatVector div = zero;
            for (int j = 0; j < m; j++) {
                FloatVector d = FloatVector.fromArray(F, weighted[j], i);
                VectorMask<Float> agree = d.compare(VectorOperators.GT, 0f).and(positive)
                        .or(d.compare(VectorOperators.LT, 0f).andNot(positive));
                mix = mix.add(d, agree);
                div = div.add(FloatVector.broadcast(F, weights[j]), agree);
            }
            mix.intoArray(mixed, i);
            div.blend(one, div.compare(VectorOperators.EQ, 0f)).intoArray(divisor, i);
        }
        ScalarKernels.tiesMixTail(weighted, weights, m, mixed, divisor, i, n);
    }

    @Override
    public double sumAbs(float[] x, int n) {
        if (F.length() != LANES) return SCALAR.sumAbs(x, n);
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) acc = acc.add(FloatVector.fromArray(F, x, i).abs());
        if (i < n) acc = acc.add(FloatVector.fromArray(F, x, i, F.indexInRange(i, n)).abs());
        return lanes(acc);
    }

    @Override
    public double dot(float[] a, float[] b, int n) {
        if (F.length() != LANES) return SCALAR.dot(a, b, n);
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            acc = acc.add(FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)));
        }
        if (i < n) {
            VectorMask<Float> m = F.indexInRange(i, n);
            acc = acc.add(FloatVector.fromArray(F, a, i, m).mul(FloatVector.fromArray(F, b, i, m)));
        }
        return lanes(acc);
    }

    private static double lanes(FloatVector acc) {
        double total = 0;
        for (int l = 0; l < LANES; l++) total += acc.lane(l);
        return total;
    }
}
