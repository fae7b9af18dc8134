package dev.amalgam.merge.kernel;

import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.FloatFormats;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
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
 * {@link ScalarKernels} bit for bit. F16 has no conversion operator in this JDK's Vector API:
 * both directions are written with integer operations (exact; narrowing is checked against
 * {@code Float.floatToFloat16} over the whole half range).
 */
final class VectorKernels implements MergeKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ScalarKernels SCALAR = new ScalarKernels();

    // F16 widening: 2^-14 as a float, subtracted to normalise subnormal halves (f16ToF32).
    private static final FloatVector SUBNORMAL_MAGIC = FloatVector.broadcast(F, Float.intBitsToFloat(113 << 23));

    // F16 narrowing (store, convert).
    /** F32 bits of 2^-14, the smallest normal half. */
    private static final IntVector F16_MIN_NORMAL = IntVector.broadcast(I, 0x38800000);
    /** F32 bits of 65520: from here on a half rounds to infinity. */
    private static final IntVector F16_OVERFLOW = IntVector.broadcast(I, 0x477ff000);
    /** Exponent rebias from single (127) to half (15), in place. */
    private static final IntVector F16_REBIAS = IntVector.broadcast(I, 112 << 23);
    private static final IntVector F16_INF = IntVector.broadcast(I, 0x7c00);
    private static final IntVector F16_NAN_BITS = IntVector.broadcast(I, FloatFormats.F16_NAN);
    private static final FloatVector F16_SUBNORMAL_SCALE = FloatVector.broadcast(F, 0x1p24f);
    private static final FloatVector F16_MAGIC = FloatVector.broadcast(F, 0x1p23f);

    // BF16 narrowing of lane pairs (narrowPair).
    /** High halves of the int lanes: the odd BF16 element of each pair, in place. */
    private static final IntVector HIGH_HALF = IntVector.broadcast(I, 0xffff0000);
    /** The canonical BF16 NaN in the high half of a lane. */
    private static final IntVector BF16_NAN_HIGH = IntVector.broadcast(I, FloatFormats.BF16_NAN << 16);

    /**
     * Word indices that pick, from two int vectors of rounded F32 bits (even elements, odd
     * elements), the high halves in element order: {@code HIGH_WORDS.selectFrom(even, odd)} is one
     * two-source permute (vpermi2w) instead of shift, mask and or. Null where the int vector is not
     * 512 bits wide: AVX2 has no two-source word permute, and the Vector API's fallback for it runs
     * element by element.
     */
    private static final ShortVector HIGH_WORDS = I.vectorBitSize() == 512 ? highWords() : null;

    // Magnitude keys and masks of the TIES selection and output passes.
    private static final IntVector ABS_BITS = IntVector.broadcast(I, 0x7fffffff);
    private static final IntVector INF_BITS = IntVector.broadcast(I, 0x7f800000);
    private static final IntVector NAN_KEY = IntVector.broadcast(I, MagnitudeSelect.NAN_KEY);
    private static final IntVector SIGN_BIT = IntVector.broadcast(I, 0x80000000);

    /** Bit masks of the even and odd elements among the 2 × lanes BF16 elements of an int vector. */
    private static final long EVEN_ELEMENTS = 0x5555_5555_5555_5555L >>> (64 - 2 * Math.min(32, I.length())),
            ODD_ELEMENTS = EVEN_ELEMENTS << 1;

    /** Width of the preferred float vector in bits, for {@link Kernels}' precondition check. */
    static int preferredBits() {
        return F.vectorBitSize();
    }

    @Override
    public String name() {
        return "vector-" + F.length() + "x32";
    }

    @Override
    public void load(MemorySegment src, DType dtype, long fromElem, float[] dst, int n) {
        if (dtype != DType.BF16 && dtype != DType.F16) {
            ScalarKernels.loadTail(src, dtype, fromElem, dst, 0, n);
            return;
        }
        int bound = F.loopBound(n);
        long base = fromElem * 2;
        int i = 0;
        if (dtype == DType.BF16) {
            for (; i < bound; i += F.length()) {
                bf16ToF32(ShortVector.fromMemorySegment(S, src, base + 2L * i, LE)).intoArray(dst, i);
            }
        } else {
            for (; i < bound; i += F.length()) {
                f16ToF32(ShortVector.fromMemorySegment(S, src, base + 2L * i, LE)).intoArray(dst, i);
            }
        }
        ScalarKernels.loadTail(src, dtype, fromElem, dst, i, n);
    }

    /** F32 to BF16 (the common rounding: F32 checkpoints, a bfloat16 recipe) in one vector pass; others as the twin. */
    @Override
    public void convert(MemorySegment src, DType from, MemorySegment dst, DType to, int n) {
        int i = 0;
        if (from == DType.F32 && to == DType.BF16) {
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                f32ToBf16(FloatVector.fromMemorySegment(F, src, 4L * i, LE)).intoMemorySegment(dst, 2L * i, LE);
            }
        }
        ScalarKernels.convertTail(src, from, dst, to, i, n);
    }

    /**
     * IEEE half to single, exactly: move exponent and mantissa into place and rebias; infinity
     * and NaN get the full exponent (a NaN made quiet, as Float.float16ToFloat does); subnormal halves
     * are normalised by one float subtraction, which is exact.
     */
    private static FloatVector f16ToF32(ShortVector s) {
        IntVector h = ((IntVector) s.convertShape(VectorOperators.S2I, I, 0)).and(0xffff);
        IntVector o = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        IntVector exp = o.and(0x7c00 << 13);
        o = o.add((127 - 15) << 23);
        VectorMask<Integer> infNan = exp.compare(VectorOperators.EQ, 0x7c00 << 13);
        VectorMask<Integer> sub = exp.compare(VectorOperators.EQ, 0);
        o = o.add((128 - 16) << 23, infNan);
        // a NaN comes out quiet, as Float.float16ToFloat makes it
        VectorMask<Integer> nan = infNan.and(h.and(0x3ff).compare(VectorOperators.NE, 0));
        o = o.lanewise(VectorOperators.OR, 0x00400000, nan);
        FloatVector sf = o.add(1 << 23).reinterpretAsFloats().sub(SUBNORMAL_MAGIC);
        o = o.blend(sf.reinterpretAsInts(), sub);
        return o.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** Small and static so C2 inlines it (a non-inlined Vector argument would be boxed). */
    private static FloatVector widen(ShortVector s, boolean f16) {
        return f16 ? f16ToF32(s) : bf16ToF32(s);
    }

    /** Sign-extension by S2I is harmless: the shift pushes those bits out. */
    private static FloatVector bf16ToF32(ShortVector s) {
        IntVector v = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    @Override
    public void store(float[] src, int n, MemorySegment dst, DType dtype, long fromElem) {
        int bound = F.loopBound(n);
        int i = 0;
        if (dtype == DType.BF16) {
            long base = fromElem * 2;
            for (; i < bound; i += F.length()) {
                f32ToBf16(FloatVector.fromArray(F, src, i)).intoMemorySegment(dst, base + 2L * i, LE);
            }
        } else if (dtype == DType.F32) {
            long base = fromElem * 4;
            for (; i < bound; i += F.length()) {
                IntVector b = FloatVector.fromArray(F, src, i).reinterpretAsInts();
                VectorMask<Integer> nan = b.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
                b.blend(FloatFormats.F32_NAN, nan).intoMemorySegment(dst, base + 4L * i, LE);
            }
        } else if (dtype == DType.F16) {
            long base = fromElem * 2;
            // written out in the loop, constants as vectors (see fusedStore3)
            IntVector abs = ABS_BITS, minNormal = F16_MIN_NORMAL, overflow = F16_OVERFLOW, inf = INF_BITS;
            IntVector rebias = F16_REBIAS, halfInf = F16_INF, halfNan = F16_NAN_BITS, low = IntVector.broadcast(I, 0xfff);
            FloatVector scale = F16_SUBNORMAL_SCALE, magic = F16_MAGIC;
            for (; i < bound; i += F.length()) {
                FloatVector f = FloatVector.fromArray(F, src, i);
                IntVector b = f.reinterpretAsInts();
                IntVector a = b.lanewise(VectorOperators.AND, abs);
                // normal halves: rebias the exponent, round the 13 dropped bits to nearest even
                IntVector normal = a.sub(rebias).add(low).add(a.lanewise(VectorOperators.LSHR, 13).and(1))
                        .lanewise(VectorOperators.LSHR, 13);
                // subnormal halves (and zero): |f| · 2^24 rounded to an integer by adding 2^23
                IntVector sub = f.abs().mul(scale).add(magic).reinterpretAsInts().sub(magic.reinterpretAsInts());
                IntVector h = normal.blend(sub, a.compare(VectorOperators.LT, minNormal))
                        .blend(halfInf, a.compare(VectorOperators.GE, overflow))
                        .or(b.lanewise(VectorOperators.LSHR, 16).and(0x8000))
                        .blend(halfNan, a.compare(VectorOperators.GT, inf));
                ((ShortVector) h.convertShape(VectorOperators.I2S, S, 0)).intoMemorySegment(dst, base + 2L * i, LE);
            }
        }
        ScalarKernels.storeTail(src, i, n, dst, dtype, fromElem);
    }

    /** Round to nearest even by adding 0x7fff + lsb; every NaN becomes the canonical one. */
    private static ShortVector f32ToBf16(FloatVector f) {
        IntVector b = f.reinterpretAsInts();
        IntVector lsb = b.lanewise(VectorOperators.LSHR, 16).and(1);
        IntVector rounded = b.add(lsb.add(0x7fff)).lanewise(VectorOperators.LSHR, 16);
        VectorMask<Integer> nan = b.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000);
        return (ShortVector) rounded.blend(FloatFormats.BF16_NAN, nan).convertShape(VectorOperators.I2S, S, 0);
    }

    @Override
    public void loadDelta(MemorySegment src, DType dtype, long fromElem, float[] base, float[] out, int n) {
        if (dtype != DType.BF16) {
            MergeKernels.super.loadDelta(src, dtype, fromElem, base, out, n);
            return;
        }
        int bound = F.loopBound(n);
        long off = fromElem * 2;
        int i = 0;
        for (; i < bound; i += F.length()) {
            bf16ToF32(ShortVector.fromMemorySegment(S, src, off + 2L * i, LE))
                    .sub(FloatVector.fromArray(F, base, i)).intoArray(out, i);
        }
        ScalarKernels.loadTail(src, dtype, fromElem, out, i, n);
        for (; i < n; i++) out[i] = out[i] - base[i];
    }

    @Override
    public void finishStore(float[] mixed, float[] divisor, float lambda, float[] base,
                            MemorySegment dst, DType outDtype, long dstElem, int n) {
        if (outDtype != DType.BF16) {
            MergeKernels.super.finishStore(mixed, divisor, lambda, base, dst, outDtype, dstElem, n);
            return;
        }
        int bound = F.loopBound(n);
        long off = dstElem * 2;
        boolean div = divisor != null, mul = lambda != 1f;
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, mixed, i);
            if (div) v = v.div(FloatVector.fromArray(F, divisor, i));
            if (mul) v = v.mul(lambda);
            v = FloatVector.fromArray(F, base, i).add(v);
            f32ToBf16(v).intoMemorySegment(dst, off + 2L * i, LE);
        }
        for (int j = i; j < n; j++) {
            float v = mixed[j];
            if (div) v = v / divisor[j];
            if (mul) v = v * lambda;
            mixed[j] = base[j] + v;
        }
        ScalarKernels.storeTail(mixed, i, n, dst, outDtype, dstElem);
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
    public void mulAdd(float[] acc, float[] w, float[] x, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector a = FloatVector.fromArray(F, acc, i);
            a.add(FloatVector.fromArray(F, w, i).mul(FloatVector.fromArray(F, x, i))).intoArray(acc, i);
        }
        for (; i < n; i++) acc[i] = acc[i] + w[i] * x[i];
    }

    @Override
    public void weightedSum(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m, float[] out, int n) {
        if (dtype != DType.BF16 && dtype != DType.F16) {
            ScalarKernels.weightedSumTail(src, dtype, fromElem, w, m, out, 0, n);
            return;
        }
        int bound = F.loopBound(n);
        long base = fromElem * 2;
        if (m == 2 || m == 3) {
            // all inputs in one loop: several memory streams at once, the common 2- and 3-model case
            fused(src, w, m, base, out, bound, false, 1f, dtype == DType.F16);
        } else {
            // input by input through the L1-resident out array: a vector carried across an
            // inner loop over inputs would not stay in registers (C2 boxes such loop phis)
            FloatVector zero = FloatVector.zero(F);
            for (int j = 0; j < m; j++) {
                MemorySegment seg = src[j];
                float wj = w[j];
                for (int i = 0; i < bound; i += F.length()) {
                    ShortVector raw = ShortVector.fromMemorySegment(S, seg, base + 2L * i, LE);
                    FloatVector x = dtype == DType.F16 ? f16ToF32(raw) : bf16ToF32(raw);
                    FloatVector acc = j == 0 ? zero : FloatVector.fromArray(F, out, i);
                    acc.add(x.mul(wj)).intoArray(out, i);
                }
            }
        }
        int i = bound;
        ScalarKernels.weightedSumTail(src, dtype, fromElem, w, m, out, i, n);
    }

    /** Two or three BF16 inputs, unrolled; same operation order as the scalar twin. */
    private static void fused(MemorySegment[] src, float[] w, int m, long base, float[] out, int bound,
                              boolean divide, float divisor, boolean f16) {
        MemorySegment s0 = src[0], s1 = src[1], s2 = m == 3 ? src[2] : src[1];
        float w0 = w[0], w1 = w[1], w2 = m == 3 ? w[2] : 0f;
        FloatVector zero = FloatVector.zero(F);
        for (int i = 0; i < bound; i += F.length()) {
            long off = base + 2L * i;
            FloatVector acc = zero.add(widen(ShortVector.fromMemorySegment(S, s0, off, LE), f16).mul(w0));
            acc = acc.add(widen(ShortVector.fromMemorySegment(S, s1, off, LE), f16).mul(w1));
            if (m == 3) acc = acc.add(widen(ShortVector.fromMemorySegment(S, s2, off, LE), f16).mul(w2));
            if (divide) acc = acc.div(divisor);
            acc.intoArray(out, i);
        }
    }

    @Override
    public void weightedMeanStore(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m,
                                  boolean divide, float divisor, MemorySegment dst, DType outDtype,
                                  long dstElem, float[] scratch, int n) {
        if (dtype != DType.BF16 || outDtype != DType.BF16 || (m != 2 && m != 3)) {
            MergeKernels.super.weightedMeanStore(src, dtype, fromElem, w, m, divide, divisor, dst, outDtype,
                    dstElem, scratch, n);
            return;
        }
        int bound = n & -(2 * I.length());
        if (m == 3) fusedStore3(src[0], src[1], src[2], w[0], w[1], w[2], fromElem * 2, dst, dstElem * 2, bound, divide, divisor);
        else fusedStore2(src[0], src[1], w[0], w[1], fromElem * 2, dst, dstElem * 2, bound, divide, divisor);
        if (bound < n) {
            ScalarKernels.weightedSumTail(src, dtype, fromElem, w, m, scratch, bound, n);
            if (divide) for (int i = bound; i < n; i++) scratch[i] = scratch[i] / divisor;
            ScalarKernels.storeTail(scratch, bound, n, dst, outDtype, dstElem);
        }
    }

    /**
     * Three BF16 inputs to BF16 in one loop, two BF16 elements per int lane: the even element is
     * the low half (shifted up it is its F32 value), the odd one the high half (masked, likewise),
     * so widening needs no lane-changing conversion (narrowing takes one permute, see
     * {@link #HIGH_WORDS}) and each element sees exactly the scalar twin's operations:
     * ((0 + w0·x0) + w1·x1) + w2·x2, then / divisor, narrowed.
     * {@code bound} is a multiple of twice the int lane count.
     */
    private static void fusedStore3(MemorySegment s0, MemorySegment s1, MemorySegment s2, float w0, float w1, float w2,
                                    long base, MemorySegment dst, long dBase, int bound, boolean divide, float divisor) {
        // written out in full: C2 boxes vectors passed to helpers it declines to inline
        FloatVector zero = FloatVector.zero(F);
        IntVector high = HIGH_HALF;
        int step = 2 * I.length();
        for (int i = 0; i < bound; i += step) {
            long off = base + 2L * i;
            IntVector a = IntVector.fromMemorySegment(I, s0, off, LE);
            IntVector b = IntVector.fromMemorySegment(I, s1, off, LE);
            IntVector c = IntVector.fromMemorySegment(I, s2, off, LE);
            FloatVector lo = zero.add(a.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().mul(w0));
            FloatVector hi = zero.add(a.lanewise(VectorOperators.AND, high).reinterpretAsFloats().mul(w0));
            lo = lo.add(b.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().mul(w1));
            hi = hi.add(b.lanewise(VectorOperators.AND, high).reinterpretAsFloats().mul(w1));
            lo = lo.add(c.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().mul(w2));
            hi = hi.add(c.lanewise(VectorOperators.AND, high).reinterpretAsFloats().mul(w2));
            if (divide) {
                lo = lo.div(divisor);
                hi = hi.div(divisor);
            }
            narrowPair(lo.reinterpretAsInts(), hi.reinterpretAsInts()).intoMemorySegment(dst, dBase + 2L * i, LE);
        }
    }

    private static void fusedStore2(MemorySegment s0, MemorySegment s1, float w0, float w1,
                                    long base, MemorySegment dst, long dBase, int bound, boolean divide, float divisor) {
        FloatVector zero = FloatVector.zero(F);
        IntVector high = HIGH_HALF;
        int step = 2 * I.length();
        for (int i = 0; i < bound; i += step) {
            long off = base + 2L * i;
            IntVector a = IntVector.fromMemorySegment(I, s0, off, LE);
            IntVector b = IntVector.fromMemorySegment(I, s1, off, LE);
            FloatVector lo = zero.add(a.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().mul(w0));
            FloatVector hi = zero.add(a.lanewise(VectorOperators.AND, high).reinterpretAsFloats().mul(w0));
            lo = lo.add(b.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().mul(w1));
            hi = hi.add(b.lanewise(VectorOperators.AND, high).reinterpretAsFloats().mul(w1));
            if (divide) {
                lo = lo.div(divisor);
                hi = hi.div(divisor);
            }
            narrowPair(lo.reinterpretAsInts(), hi.reinterpretAsInts()).intoMemorySegment(dst, dBase + 2L * i, LE);
        }
    }

    private static ShortVector highWords() {
        VectorSpecies<Short> words = VectorSpecies.of(short.class, I.vectorShape());
        short[] idx = new short[words.length()];
        for (int j = 0; j < I.length(); j++) {
            idx[2 * j] = (short) (2 * j + 1);
            idx[2 * j + 1] = (short) (words.length() + 2 * j + 1);
        }
        return ShortVector.fromArray(words, idx, 0);
    }

    /**
     * The BF16 words of two int vectors of F32 bits, the even elements' and the odd elements' (see
     * fusedStore3), in element order: each rounded to nearest even by adding 0x7fff + lsb, every
     * NaN the canonical one, then the high halves interleaved ({@link #HIGH_WORDS}, or shift,
     * mask and or). C2 inlines it into the linear and task-arithmetic loops (measured: the same
     * time as the expression written out in each), but not into tiesOutputBf16's large loop,
     * which keeps its own copy.
     */
    private static ShortVector narrowPair(IntVector even, IntVector odd) {
        IntVector e = even.add(even.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7fff))
                .blend(BF16_NAN_HIGH, even.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000));
        IntVector o = odd.add(odd.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7fff))
                .blend(BF16_NAN_HIGH, odd.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000));
        return HIGH_WORDS != null ? HIGH_WORDS.selectFrom(e.reinterpretAsShorts(), o.reinterpretAsShorts())
                : e.lanewise(VectorOperators.LSHR, 16).or(o.lanewise(VectorOperators.AND, HIGH_HALF)).reinterpretAsShorts();
    }

    @Override
    public void weightedMean(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m, float divisor, float[] out, int n) {
        if ((dtype != DType.BF16 && dtype != DType.F16) || (m != 2 && m != 3)) {
            weightedSum(src, dtype, fromElem, w, m, out, n);
            divide(out, divisor, n);
            return;
        }
        int bound = F.loopBound(n);
        fused(src, w, m, fromElem * 2, out, bound, true, divisor, dtype == DType.F16);
        ScalarKernels.weightedSumTail(src, dtype, fromElem, w, m, out, bound, n);
        for (int i = bound; i < n; i++) out[i] = out[i] / divisor;
    }

    @Override
    public void divide(float[] x, float d, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) FloatVector.fromArray(F, x, i).div(d).intoArray(x, i);
        for (; i < n; i++) x[i] = x[i] / d;
    }

    @Override
    public void dropout(float[] x, int n, long fromElem, long key, float density) {
        // two long vectors of draws per float vector (SplitMix64 in 64-bit lanes), compared as
        // integers with the bound CounterRandom.dropFrom gives: the scalar twin's decisions. The
        // two halves' SplitMix64 is written out twice: a helper taking vectors gets them boxed
        if (L.length() * 2 != F.length()) {
            ScalarKernels.dropoutTail(x, 0, n, fromElem, key, density);
            return;
        }
        LongVector golden = LongVector.broadcast(L, CounterRandom.GOLDEN), mix1 = LongVector.broadcast(L, CounterRandom.MIX1),
                mix2 = LongVector.broadcast(L, CounterRandom.MIX2), keys = LongVector.broadcast(L, key),
                dropFrom = LongVector.broadcast(L, CounterRandom.dropFrom(density)),
                iota = LongVector.zero(L).addIndex(1), half = LongVector.broadcast(L, L.length());
        FloatVector zero = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int shift = L.length();
        int i = 0;
        for (; i < bound; i += F.length()) {
            LongVector lo = iota.add(fromElem + i);
            LongVector hi = lo.add(half);
            LongVector z = keys.add(lo.mul(golden));
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(mix1);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(mix2);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31)).lanewise(VectorOperators.LSHR, 40);
            LongVector y = keys.add(hi.mul(golden));
            y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHR, 30)).mul(mix1);
            y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHR, 27)).mul(mix2);
            y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHR, 31)).lanewise(VectorOperators.LSHR, 40);
            long drop = z.compare(VectorOperators.GE, dropFrom).toLong() | y.compare(VectorOperators.GE, dropFrom).toLong() << shift;
            FloatVector v = FloatVector.fromArray(F, x, i);
            v.blend(v.mul(zero), VectorMask.fromLong(F, drop)).intoArray(x, i);
        }
        ScalarKernels.dropoutTail(x, i, n, fromElem, key, density);
    }

    @Override
    public long keepTop(float[] x, int n, int thresholdKey, long tiesLeft) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            IntVector key = keys(v);
            VectorMask<Integer> eq = key.compare(VectorOperators.EQ, thresholdKey);
            int ties = eq.trueCount();
            boolean tiesGo = false;
            if (ties > 0) {
                if (tiesLeft == 0) {
                    tiesGo = true; // quota used up: ties are dropped too
                } else if (ties > tiesLeft) {
                    // the quota runs out inside this block: index order decides, the scalar way
                    tiesLeft = ScalarKernels.keepTopTail(x, i, i + F.length(), thresholdKey, tiesLeft);
                    continue;
                } else {
                    tiesLeft -= ties; // every tie in this block is kept
                }
            }
            // constant comparison operators only: a variable one is not intrinsified
            VectorMask<Integer> drop = tiesGo ? key.compare(VectorOperators.LE, thresholdKey)
                    : key.compare(VectorOperators.LT, thresholdKey);
            // blended as ints: no mask conversion between species
            v.reinterpretAsInts().blend(v.mul(0f).reinterpretAsInts(), drop).reinterpretAsFloats().intoArray(x, i);
        }
        return ScalarKernels.keepTopTail(x, i, n, thresholdKey, tiesLeft);
    }

    /** {@link MagnitudeSelect#key} lanewise: |bits|, every NaN mapped to one key. */
    private static IntVector keys(FloatVector v) {
        IntVector k = v.reinterpretAsInts().and(0x7fffffff);
        return k.blend(MagnitudeSelect.NAN_KEY, k.compare(VectorOperators.GT, 0x7f800000));
    }

    @Override
    public void countInBucket(float[] x, int n, int bucket, long[] low) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += F.length()) {
            IntVector hb = keys(FloatVector.fromArray(F, x, i)).lanewise(VectorOperators.LSHR, 16);
            long lanes = hb.compare(VectorOperators.EQ, bucket).toLong();
            while (lanes != 0) { // only the matching lanes: the bucket can hold many elements
                int l = Long.numberOfTrailingZeros(lanes);
                low[MagnitudeSelect.key(x[i + l]) & 0xffff]++;
                lanes &= lanes - 1;
            }
        }
        ScalarKernels.countInBucketTail(x, i, n, bucket, low);
    }

    @Override
    public void bracket(float[] x, int n, int loKey, int hiKey, float[] out, long[] state) {
        int bound = F.loopBound(n);
        long above = 0, eqHi = 0, eqLo = 0;
        int pos = (int) state[1];
        int i = 0;
        if (loKey == hiKey) {
            for (; i < bound; i += F.length()) {
                IntVector k = keys(FloatVector.fromArray(F, x, i));
                above += k.compare(VectorOperators.GT, hiKey).trueCount();
                eqHi += k.compare(VectorOperators.EQ, hiKey).trueCount();
            }
        } else {
            for (; i < bound; i += F.length()) {
                IntVector k = keys(FloatVector.fromArray(F, x, i));
                above += k.compare(VectorOperators.GT, hiKey).trueCount();
                eqHi += k.compare(VectorOperators.EQ, hiKey).trueCount();
                eqLo += k.compare(VectorOperators.EQ, loKey).trueCount();
                VectorMask<Integer> in = k.compare(VectorOperators.GT, loKey).and(k.compare(VectorOperators.LT, hiKey));
                if (in.anyTrue()) {
                    k.compress(in).reinterpretAsFloats().intoArray(out, pos);
                    pos += in.trueCount();
                }
            }
        }
        state[0] += above;
        state[1] = pos;
        state[2] += eqHi;
        state[3] += eqLo;
        ScalarKernels.bracketTail(x, i, n, loKey, hiKey, out, state);
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
        if (m > 3) {
            // a vector carried across an inner loop over inputs gets boxed by C2: unrolled up to 3
            ScalarKernels.tiesMixTail(weighted, weights, m, mixed, divisor, 0, n);
            return;
        }
        int bound = F.loopBound(n);
        float[] d0 = weighted[0], d1 = m > 1 ? weighted[1] : d0, d2 = m > 2 ? weighted[2] : d0;
        FloatVector zero = FloatVector.zero(F);
        FloatVector one = FloatVector.broadcast(F, 1f);
        FloatVector w0 = FloatVector.broadcast(F, weights[0]);
        FloatVector w1 = FloatVector.broadcast(F, m > 1 ? weights[1] : 0f);
        FloatVector w2 = FloatVector.broadcast(F, m > 2 ? weights[2] : 0f);
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector a = FloatVector.fromArray(F, d0, i);
            FloatVector b = FloatVector.fromArray(F, d1, i);
            FloatVector c = FloatVector.fromArray(F, d2, i);
            FloatVector sum = zero.add(a);
            if (m > 1) sum = sum.add(b);
            if (m > 2) sum = sum.add(c);
            VectorMask<Float> pos = sum.compare(VectorOperators.GE, 0f);
            VectorMask<Float> agreeA = a.compare(VectorOperators.GT, 0f).and(pos).or(a.compare(VectorOperators.LT, 0f).andNot(pos));
            FloatVector mix = zero.add(a, agreeA);
            FloatVector div = zero.add(w0, agreeA);
            if (m > 1) {
                VectorMask<Float> agreeB = b.compare(VectorOperators.GT, 0f).and(pos).or(b.compare(VectorOperators.LT, 0f).andNot(pos));
                mix = mix.add(b, agreeB);
                div = div.add(w1, agreeB);
            }
            if (m > 2) {
                VectorMask<Float> agreeC = c.compare(VectorOperators.GT, 0f).and(pos).or(c.compare(VectorOperators.LT, 0f).andNot(pos));
                mix = mix.add(c, agreeC);
                div = div.add(w2, agreeC);
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

    @Override
    public void bracketDeltaBf16(MemorySegment x, MemorySegment base, long fromElem, int n, int loKey, int hiKey,
                                 float[] out, long[] state) {
        // two BF16 elements per int lane (the even one in the low half), as taskSumStoreBf16: no
        // widening shuffles; the keys inside are collected even elements first in each block
        // (their order does not matter). Constants as vectors, everything written out (see
        // maskedDeltaBf16)
        IntVector one = IntVector.broadcast(I, 1), abs = ABS_BITS, inf = INF_BITS, nanKey = NAN_KEY, high = HIGH_HALF;
        IntVector hi = IntVector.broadcast(I, hiKey), lo = IntVector.broadcast(I, loKey);
        // strictly inside (lo, hi) as one unsigned comparison: k - (lo + 1) < hi - lo - 1
        IntVector loNext = IntVector.broadcast(I, loKey + 1), width = IntVector.broadcast(I, hiKey - loKey - 1);
        IntVector above = IntVector.zero(I), eqHi = IntVector.zero(I), eqLo = IntVector.zero(I);
        int step = 2 * I.length();
        int bound = n & -step;
        int pos = (int) state[1];
        long off0 = fromElem * 2;
        boolean inner = loKey != hiKey;
        // below an infinite bracket every NaN key is above it, never equal to an end nor inside,
        // whatever its payload: the mapping to the one NaN key changes nothing there
        boolean mapNan = hiKey >= 0x7f800000;
        for (int i = 0; i < bound; i += step) {
            long off = off0 + 2L * i;
            IntVector bp = IntVector.fromMemorySegment(I, base, off, LE);
            IntVector xv = IntVector.fromMemorySegment(I, x, off, LE);
            IntVector kl = xv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .sub(bp.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats())
                    .reinterpretAsInts().lanewise(VectorOperators.AND, abs);
            IntVector kh = xv.lanewise(VectorOperators.AND, high).reinterpretAsFloats()
                    .sub(bp.lanewise(VectorOperators.AND, high).reinterpretAsFloats())
                    .reinterpretAsInts().lanewise(VectorOperators.AND, abs);
            if (mapNan) {
                kl = kl.blend(nanKey, kl.compare(VectorOperators.GT, inf));
                kh = kh.blend(nanKey, kh.compare(VectorOperators.GT, inf));
            }
            above = above.add(one, kl.compare(VectorOperators.GT, hi)).add(one, kh.compare(VectorOperators.GT, hi));
            eqHi = eqHi.add(one, kl.compare(VectorOperators.EQ, hi)).add(one, kh.compare(VectorOperators.EQ, hi));
            if (inner) {
                eqLo = eqLo.add(one, kl.compare(VectorOperators.EQ, lo)).add(one, kh.compare(VectorOperators.EQ, lo));
                VectorMask<Integer> inL = kl.sub(loNext).compare(VectorOperators.ULT, width);
                VectorMask<Integer> inH = kh.sub(loNext).compare(VectorOperators.ULT, width);
                // no branch: about half the blocks hold a key inside, so a test mispredicts
                // often; storing a compressed vector always costs less (out has the room)
                kl.compress(inL).reinterpretAsFloats().intoArray(out, pos);
                pos += inL.trueCount();
                kh.compress(inH).reinterpretAsFloats().intoArray(out, pos);
                pos += inH.trueCount();
            }
        }
        state[0] += above.reduceLanesToLong(VectorOperators.ADD);
        state[1] = pos;
        state[2] += eqHi.reduceLanesToLong(VectorOperators.ADD);
        state[3] += eqLo.reduceLanesToLong(VectorOperators.ADD);
        ScalarKernels.bracketDeltaTail(x, base, fromElem, bound, n, loKey, hiKey, out, state);
    }

    @Override
    public long maskedDeltaBf16(MemorySegment x, MemorySegment base, long fromElem, int thrKey, long tiesLeft,
                                float rescale, float weight, float[] out, int n) {
        // an infinite or NaN threshold (a top-k of only infinities and NaN) takes the scalar
        // twin; below it, NaN keys are above the threshold and never equal to it, and dropped
        // elements are finite, so d · 0 is d's sign alone
        if (thrKey >= 0x7f800000) return ScalarKernels.maskedDeltaTail(x, base, fromElem, thrKey, tiesLeft, rescale, weight, out, 0, n);
        // constants as vectors and everything written out: scalar operands and helper calls
        // inside this loop made C2 rebuild vectors per iteration (3-4x slower, measured)
        IntVector thr = IntVector.broadcast(I, thrKey), abs = ABS_BITS, sign = SIGN_BIT, all = IntVector.broadcast(I, -1);
        int bound = F.loopBound(n);
        long off0 = fromElem * 2;
        long left = tiesLeft;
        int i = 0;
        for (; i < bound; i += F.length()) {
            long off = off0 + 2L * i;
            FloatVector d = bf16ToF32(ShortVector.fromMemorySegment(S, x, off, LE))
                    .sub(bf16ToF32(ShortVector.fromMemorySegment(S, base, off, LE)));
            IntVector bits = d.reinterpretAsInts();
            IntVector k = bits.lanewise(VectorOperators.AND, abs);
            VectorMask<Integer> keep = k.compare(VectorOperators.GT, thr);
            if (left > 0) {
                // no test for "any tie here": BF16 task vectors pile up on the threshold's key,
                // so that test mispredicts often; the quota test below almost never does
                VectorMask<Integer> eq = k.compare(VectorOperators.EQ, thr);
                long eqBits = eq.toLong();
                int count = Long.bitCount(eqBits);
                if (count <= left) {
                    keep = keep.or(eq);
                    left -= count;
                } else {
                    keep = keep.or(VectorMask.fromLong(I, lowestBits(eqBits, left)));
                    left = 0;
                }
            }
            d = bits.lanewise(VectorOperators.AND, sign.blend(all, keep)).reinterpretAsFloats();
            if (rescale != 1f) d = d.mul(rescale);
            d.mul(weight).intoArray(out, i);
        }
        return ScalarKernels.maskedDeltaTail(x, base, fromElem, thrKey, left, rescale, weight, out, i, n);
    }

    @Override
    public void tiesCombineBf16(float[][] weighted, TiesFinish finish, MemorySegment base, long fromElem,
                                MemorySegment dst, long dstElem, int n) {
        float[] weights = finish.weights();
        int m = finish.m();
        boolean normalize = finish.normalize();
        float lambda = finish.lambda();
        if (m < 1 || m > 3) {
            // a vector carried across an inner loop over inputs gets boxed by C2: unrolled up to 3
            ScalarKernels.tiesCombineTail(weighted, weights, m, base, fromElem, normalize, lambda, dst, dstElem, 0, n);
            return;
        }
        float[] d0 = weighted[0], d1 = m > 1 ? weighted[1] : d0, d2 = m > 2 ? weighted[2] : d0;
        FloatVector zero = FloatVector.zero(F), one = FloatVector.broadcast(F, 1f);
        IntVector zeroI = IntVector.zero(I), sign = SIGN_BIT;
        FloatVector w0 = FloatVector.broadcast(F, weights[0]);
        FloatVector w1 = FloatVector.broadcast(F, m > 1 ? weights[1] : 0f);
        FloatVector w2 = FloatVector.broadcast(F, m > 2 ? weights[2] : 0f);
        int bound = F.loopBound(n);
        long off0 = fromElem * 2, dOff0 = dstElem * 2;
        int i = 0;
        for (; i < bound; i += F.length()) {
            FloatVector a = FloatVector.fromArray(F, d0, i);
            FloatVector b = FloatVector.fromArray(F, d1, i);
            FloatVector c = FloatVector.fromArray(F, d2, i);
            FloatVector sum = zero.add(a);
            if (m > 1) sum = sum.add(b);
            if (m > 2) sum = sum.add(c);
            // agreeing with the majority sign: positive after flipping every sign when the sum
            // is negative or NaN (zeros and NaN never agree), as the scalar test d > 0 / d < 0
            IntVector flip = zeroI.blend(sign, sum.compare(VectorOperators.GE, zero).not().cast(I));
            VectorMask<Float> agree = a.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                    .compare(VectorOperators.GT, zero);
            FloatVector mix = zero.add(a, agree);
            FloatVector div = zero.add(w0, agree);
            if (m > 1) {
                agree = b.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                        .compare(VectorOperators.GT, zero);
                mix = mix.add(b, agree);
                div = div.add(w1, agree);
            }
            if (m > 2) {
                agree = c.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                        .compare(VectorOperators.GT, zero);
                mix = mix.add(c, agree);
                div = div.add(w2, agree);
            }
            if (normalize) mix = mix.div(div.blend(one, div.compare(VectorOperators.EQ, zero)));
            if (lambda != 1f) mix = mix.mul(lambda);
            FloatVector x = bf16ToF32(ShortVector.fromMemorySegment(S, base, off0 + 2L * i, LE));
            f32ToBf16(x.add(mix)).intoMemorySegment(dst, dOff0 + 2L * i, LE);
        }
        ScalarKernels.tiesCombineTail(weighted, weights, m, base, fromElem, normalize, lambda, dst, dstElem, i, n);
    }

    @Override
    public void tiesOutputBf16(MemorySegment base, MemorySegment[] xs, long fromElem, int[] thrKeys, long[] tiesLeft,
                               TiesFinish finish, MemorySegment dst, long dstElem, int n) {
        float[] weights = finish.weights();
        int m = finish.m();
        boolean normalize = finish.normalize();
        float lambda = finish.lambda();
        boolean finite = true;
        for (int j = 0; j < m; j++) finite &= thrKeys[j] < 0x7f800000;
        if (m < 1 || m > 3 || !finite || I.length() > 16) {
            // an infinite or NaN threshold: see maskedDeltaBf16; more inputs: see tiesCombineBf16
            ScalarKernels.tiesOutputTail(base, xs, m, fromElem, thrKeys, tiesLeft, weights, normalize, lambda, dst, dstElem, 0, n);
            return;
        }
        // two BF16 elements per int lane, as taskSumStoreBf16 (the even element in the low half):
        // no widening shuffles, one permute to narrow. Ties at a threshold are kept in element order
        // without a branch: the halves' masks interleaved (pdep), the lowest quota bits of them
        // chosen (pdep again) and split back (pext). A branch on "quota left" or "quota runs out
        // here" flips once per tensor, and each flip cost a deoptimisation and a 0.1 s recompile.
        // The three task vectors' blocks are written out one by one on purpose: a loop over
        // inputs carrying vectors gets them boxed by C2 (see tiesCombineBf16). The quota's pdep is
        // lowestBits written inline: called, C2 left it out of line in this large loop (the
        // output pass took 33 ms instead of 19)
        MemorySegment x0 = xs[0], x1 = m > 1 ? xs[1] : x0, x2 = m > 2 ? xs[2] : x0;
        IntVector high = HIGH_HALF, nan = BF16_NAN_HIGH, abs = ABS_BITS, sign = SIGN_BIT;
        IntVector all = IntVector.broadcast(I, -1), zeroI = IntVector.zero(I);
        IntVector t0 = IntVector.broadcast(I, thrKeys[0]);
        IntVector t1 = IntVector.broadcast(I, m > 1 ? thrKeys[1] : -1);
        IntVector t2 = IntVector.broadcast(I, m > 2 ? thrKeys[2] : -1);
        FloatVector zero = FloatVector.zero(F), one = FloatVector.broadcast(F, 1f), lam = FloatVector.broadcast(F, lambda);
        FloatVector w0 = FloatVector.broadcast(F, weights[0]);
        FloatVector w1 = FloatVector.broadcast(F, m > 1 ? weights[1] : 0f);
        FloatVector w2 = FloatVector.broadcast(F, m > 2 ? weights[2] : 0f);
        long left0 = tiesLeft[0], left1 = m > 1 ? tiesLeft[1] : 0, left2 = m > 2 ? tiesLeft[2] : 0;
        int step = 2 * I.length();
        int bound = n & -step;
        long off0 = fromElem * 2, dOff0 = dstElem * 2;
        for (int i = 0; i < bound; i += step) {
            long off = off0 + 2L * i;
            IntVector bp = IntVector.fromMemorySegment(I, base, off, LE);
            FloatVector bl = bp.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector bh = bp.lanewise(VectorOperators.AND, high).reinterpretAsFloats();
            FloatVector d0l = zero, d0h = zero, d1l = zero, d1h = zero, d2l = zero, d2h = zero;
            {
                IntVector xv = IntVector.fromMemorySegment(I, x0, off, LE);
                IntVector il = xv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().sub(bl).reinterpretAsInts();
                IntVector ih = xv.lanewise(VectorOperators.AND, high).reinterpretAsFloats().sub(bh).reinterpretAsInts();
                IntVector kl = il.lanewise(VectorOperators.AND, abs), kh = ih.lanewise(VectorOperators.AND, abs);
                VectorMask<Integer> pl = kl.compare(VectorOperators.GT, t0), ph = kh.compare(VectorOperators.GT, t0);
                {
                    // the ties at the threshold in element order, the lowest left0 of them kept
                    long ties = Long.expand(kl.compare(VectorOperators.EQ, t0).toLong(), EVEN_ELEMENTS)
                            | Long.expand(kh.compare(VectorOperators.EQ, t0).toLong(), ODD_ELEMENTS);
                    long chosen = Long.expand((1L << Math.min(left0, 32)) - 1, ties);
                    left0 -= Long.bitCount(chosen);
                    pl = pl.or(VectorMask.fromLong(I, Long.compress(chosen, EVEN_ELEMENTS)));
                    ph = ph.or(VectorMask.fromLong(I, Long.compress(chosen, ODD_ELEMENTS)));
                }
                d0l = il.lanewise(VectorOperators.AND, sign.blend(all, pl)).reinterpretAsFloats().mul(w0);
                d0h = ih.lanewise(VectorOperators.AND, sign.blend(all, ph)).reinterpretAsFloats().mul(w0);
            }
            if (m > 1) {
                IntVector xv = IntVector.fromMemorySegment(I, x1, off, LE);
                IntVector il = xv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().sub(bl).reinterpretAsInts();
                IntVector ih = xv.lanewise(VectorOperators.AND, high).reinterpretAsFloats().sub(bh).reinterpretAsInts();
                IntVector kl = il.lanewise(VectorOperators.AND, abs), kh = ih.lanewise(VectorOperators.AND, abs);
                VectorMask<Integer> pl = kl.compare(VectorOperators.GT, t1), ph = kh.compare(VectorOperators.GT, t1);
                {
                    // the ties at the threshold in element order, the lowest left1 of them kept
                    long ties = Long.expand(kl.compare(VectorOperators.EQ, t1).toLong(), EVEN_ELEMENTS)
                            | Long.expand(kh.compare(VectorOperators.EQ, t1).toLong(), ODD_ELEMENTS);
                    long chosen = Long.expand((1L << Math.min(left1, 32)) - 1, ties);
                    left1 -= Long.bitCount(chosen);
                    pl = pl.or(VectorMask.fromLong(I, Long.compress(chosen, EVEN_ELEMENTS)));
                    ph = ph.or(VectorMask.fromLong(I, Long.compress(chosen, ODD_ELEMENTS)));
                }
                d1l = il.lanewise(VectorOperators.AND, sign.blend(all, pl)).reinterpretAsFloats().mul(w1);
                d1h = ih.lanewise(VectorOperators.AND, sign.blend(all, ph)).reinterpretAsFloats().mul(w1);
            }
            if (m > 2) {
                IntVector xv = IntVector.fromMemorySegment(I, x2, off, LE);
                IntVector il = xv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().sub(bl).reinterpretAsInts();
                IntVector ih = xv.lanewise(VectorOperators.AND, high).reinterpretAsFloats().sub(bh).reinterpretAsInts();
                IntVector kl = il.lanewise(VectorOperators.AND, abs), kh = ih.lanewise(VectorOperators.AND, abs);
                VectorMask<Integer> pl = kl.compare(VectorOperators.GT, t2), ph = kh.compare(VectorOperators.GT, t2);
                {
                    // the ties at the threshold in element order, the lowest left2 of them kept
                    long ties = Long.expand(kl.compare(VectorOperators.EQ, t2).toLong(), EVEN_ELEMENTS)
                            | Long.expand(kh.compare(VectorOperators.EQ, t2).toLong(), ODD_ELEMENTS);
                    long chosen = Long.expand((1L << Math.min(left2, 32)) - 1, ties);
                    left2 -= Long.bitCount(chosen);
                    pl = pl.or(VectorMask.fromLong(I, Long.compress(chosen, EVEN_ELEMENTS)));
                    ph = ph.or(VectorMask.fromLong(I, Long.compress(chosen, ODD_ELEMENTS)));
                }
                d2l = il.lanewise(VectorOperators.AND, sign.blend(all, pl)).reinterpretAsFloats().mul(w2);
                d2h = ih.lanewise(VectorOperators.AND, sign.blend(all, ph)).reinterpretAsFloats().mul(w2);
            }
            IntVector rl, rh;
            {
                FloatVector sum = zero.add(d0l);
                if (m > 1) sum = sum.add(d1l);
                if (m > 2) sum = sum.add(d2l);
                IntVector flip = zeroI.blend(sign, sum.compare(VectorOperators.GE, zero).not().cast(I));
                VectorMask<Float> agree = d0l.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                        .compare(VectorOperators.GT, zero);
                FloatVector mix = zero.add(d0l, agree);
                FloatVector div = zero.add(w0, agree);
                if (m > 1) {
                    agree = d1l.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                            .compare(VectorOperators.GT, zero);
                    mix = mix.add(d1l, agree);
                    div = div.add(w1, agree);
                }
                if (m > 2) {
                    agree = d2l.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                            .compare(VectorOperators.GT, zero);
                    mix = mix.add(d2l, agree);
                    div = div.add(w2, agree);
                }
                if (normalize) mix = mix.div(div.blend(one, div.compare(VectorOperators.EQ, zero)));
                if (lambda != 1f) mix = mix.mul(lam);
                IntVector r = bl.add(mix).reinterpretAsInts();
                rl = r.add(r.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7fff))
                        .blend(nan, r.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000));
            }
            {
                FloatVector sum = zero.add(d0h);
                if (m > 1) sum = sum.add(d1h);
                if (m > 2) sum = sum.add(d2h);
                IntVector flip = zeroI.blend(sign, sum.compare(VectorOperators.GE, zero).not().cast(I));
                VectorMask<Float> agree = d0h.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                        .compare(VectorOperators.GT, zero);
                FloatVector mix = zero.add(d0h, agree);
                FloatVector div = zero.add(w0, agree);
                if (m > 1) {
                    agree = d1h.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                            .compare(VectorOperators.GT, zero);
                    mix = mix.add(d1h, agree);
                    div = div.add(w1, agree);
                }
                if (m > 2) {
                    agree = d2h.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats()
                            .compare(VectorOperators.GT, zero);
                    mix = mix.add(d2h, agree);
                    div = div.add(w2, agree);
                }
                if (normalize) mix = mix.div(div.blend(one, div.compare(VectorOperators.EQ, zero)));
                if (lambda != 1f) mix = mix.mul(lam);
                IntVector r = bh.add(mix).reinterpretAsInts();
                rh = r.add(r.lanewise(VectorOperators.LSHR, 16).and(1).add(0x7fff))
                        .blend(nan, r.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000));
            }
            // narrowPair written out: called from this large loop, C2 leaves it out of line (the
            // output pass took 35 ms instead of 18, measured on cache-resident windows)
            (HIGH_WORDS != null ? HIGH_WORDS.selectFrom(rl.reinterpretAsShorts(), rh.reinterpretAsShorts())
                    : rl.lanewise(VectorOperators.LSHR, 16).or(rh.lanewise(VectorOperators.AND, high)).reinterpretAsShorts())
                    .intoMemorySegment(dst, dOff0 + 2L * i, LE);
        }
        tiesLeft[0] = left0;
        if (m > 1) tiesLeft[1] = left1;
        if (m > 2) tiesLeft[2] = left2;
        ScalarKernels.tiesOutputTail(base, xs, m, fromElem, thrKeys, tiesLeft, weights, normalize, lambda, dst, dstElem, bound, n);
    }

    @Override
    public long sumWords(MemorySegment[] src, int m, long words) {
        if (m < 1 || m > 3) return ScalarKernels.sumWordsTail(src, m, 0, words);
        // unrolled up to three inputs (see tiesCombineBf16); integer sums do not depend on order
        MemorySegment a = src[0], b = m > 1 ? src[1] : a, c = m > 2 ? src[2] : a;
        LongVector acc = LongVector.zero(L);
        long step = L.length(), bound = words - words % step;
        for (long i = 0; i < bound; i += step) {
            long off = 8 * i;
            LongVector v = LongVector.fromMemorySegment(L, a, off, LE);
            if (m > 1) v = v.add(LongVector.fromMemorySegment(L, b, off, LE));
            if (m > 2) v = v.add(LongVector.fromMemorySegment(L, c, off, LE));
            acc = acc.add(v);
        }
        return acc.reduceLanes(VectorOperators.ADD) + ScalarKernels.sumWordsTail(src, m, bound, words);
    }

    /**
     * The lowest {@code count} set bits of {@code bits} (a mask of at most 63 lanes): the tie
     * lanes a quota still allows, lowest lane first. One pdep, no branch.
     */
    private static long lowestBits(long bits, long count) {
        return Long.expand((1L << Math.min(count, 32)) - 1, bits);
    }


    @Override
    public void taskSumStoreBf16(MemorySegment base, MemorySegment[] xs, long fromElem, TaskSum sum,
                                 MemorySegment dst, long dstElem, int n) {
        float[] weights = sum.weights();
        int m = sum.m();
        boolean divide = sum.divide();
        float divisor = sum.divisor();
        float lambda = sum.lambda();
        if (m < 1 || m > 3) {
            ScalarKernels.taskSumTail(base, xs, m, fromElem, weights, divide, divisor, lambda, dst, dstElem, 0, n);
            return;
        }
        // two BF16 elements per int lane, as fusedStore3; written out in full (see there)
        MemorySegment x0 = xs[0], x1 = m > 1 ? xs[1] : xs[0], x2 = m > 2 ? xs[2] : xs[0];
        float w0 = weights[0], w1 = m > 1 ? weights[1] : 0f, w2 = m > 2 ? weights[2] : 0f;
        IntVector high = HIGH_HALF;
        int step = 2 * I.length();
        int bound = n & -step;
        long off0 = fromElem * 2, dOff0 = dstElem * 2;
        for (int i = 0; i < bound; i += step) {
            long off = off0 + 2L * i;
            IntVector bp = IntVector.fromMemorySegment(I, base, off, LE);
            FloatVector bLo = bp.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector bHi = bp.lanewise(VectorOperators.AND, high).reinterpretAsFloats();
            IntVector a = IntVector.fromMemorySegment(I, x0, off, LE);
            FloatVector lo = a.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().sub(bLo).mul(w0);
            FloatVector hi = a.lanewise(VectorOperators.AND, high).reinterpretAsFloats().sub(bHi).mul(w0);
            if (m > 1) {
                IntVector b = IntVector.fromMemorySegment(I, x1, off, LE);
                lo = lo.add(b.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().sub(bLo).mul(w1));
                hi = hi.add(b.lanewise(VectorOperators.AND, high).reinterpretAsFloats().sub(bHi).mul(w1));
            }
            if (m > 2) {
                IntVector c = IntVector.fromMemorySegment(I, x2, off, LE);
                lo = lo.add(c.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().sub(bLo).mul(w2));
                hi = hi.add(c.lanewise(VectorOperators.AND, high).reinterpretAsFloats().sub(bHi).mul(w2));
            }
            if (divide) {
                lo = lo.div(divisor);
                hi = hi.div(divisor);
            }
            if (lambda != 1f) {
                lo = lo.mul(lambda);
                hi = hi.mul(lambda);
            }
            narrowPair(bLo.add(lo).reinterpretAsInts(), bHi.add(hi).reinterpretAsInts())
                    .intoMemorySegment(dst, dOff0 + 2L * i, LE);
        }
        ScalarKernels.taskSumTail(base, xs, m, fromElem, weights, divide, divisor, lambda, dst, dstElem, bound, n);
    }
}
