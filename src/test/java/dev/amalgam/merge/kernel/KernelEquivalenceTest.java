package dev.amalgam.merge.kernel;

import dev.amalgam.safetensors.DType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The vector kernels must equal the scalar twin bit for bit, specials and odd lengths included. */
class KernelEquivalenceTest {
    private static final int[] LENGTHS = {0, 1, 7, 15, 16, 17, 31, 33, 64, 100, 257, 1000, 4099};
    private static final ScalarKernels S = new ScalarKernels();
    private static MergeKernels V;

    @BeforeAll
    static void vector() {
        V = Kernels.vectorOrNull();
        assertNotNull(V, "tests run with --add-modules=jdk.incubator.vector");
        assertTrue(V.name().startsWith("vector"));
        // the narrow-vector runs of the build (pom.xml) set the width they expect: proof that they
        // ran these tests on 8- and 4-lane vectors rather than silently on the preferred ones
        String expected = System.getProperty("amalgam.expect.kernels");
        if (expected != null) assertEquals(expected, V.name(), "kernels at the vector width this run asks for");
    }

    /** Random floats with a generous share of NaN, ±Inf, ±0, subnormals and huge values. */
    static float[] data(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (r.nextInt(14)) {
                case 0 -> Float.NaN;
                case 1 -> r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                case 2 -> r.nextBoolean() ? 0f : -0f;
                case 3 -> Float.intBitsToFloat(r.nextInt(0x007fffff) + 1) * (r.nextBoolean() ? 1 : -1);
                case 4 -> Float.intBitsToFloat(r.nextInt()); // any bits, NaN payloads included
                case 5 -> (r.nextFloat() - 0.5f) * 3e38f;
                default -> (float) r.nextGaussian() * 0.02f;
            };
        }
        return x;
    }

    /**
     * Bit for bit, except that any NaN equals any NaN: which NaN an operation on two NaNs
     * returns is unspecified in Java (the JIT may swap operands), so outputs canonicalise NaN.
     */
    private static void assertBits(float[] a, float[] b, int n, String what) {
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(a[i]) && Float.isNaN(b[i])) continue;
            assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), what + " at " + i + " of " + n);
        }
    }

    /** Bit for bit, except that any NaN equals any NaN (its sign and payload depend on operand order, see above). */
    private static void assertSameDouble(double a, double b, String what) {
        if (Double.isNaN(a) && Double.isNaN(b)) return;
        assertEquals(Double.doubleToRawLongBits(a), Double.doubleToRawLongBits(b), what);
    }

    /**
     * The array operations as a table, Lucene's TestVectorUtilSupport form: each row one operation,
     * a one-line lambda run once on the scalar twin and once on the vector kernels, with the same
     * inputs; every row runs at every length of {@link #LENGTHS} and on every {@link Fill}, each
     * combination its own test, and the outputs must agree bit for bit.
     */
    private static final List<Op> OPS = List.of(
            op("axpy", (k, c) -> k.axpy(c.out, c.b, c.w, c.n)),
            op("mulAdd", (k, c) -> k.mulAdd(c.out, c.c, c.b, c.n)),
            op("sub", (k, c) -> k.sub(c.a, c.b, c.out, c.n)),
            op("add", (k, c) -> k.add(c.a, c.b, c.out, c.n)),
            op("scale", (k, c) -> k.scale(c.out, c.w, c.n)),
            op("divide by array", (k, c) -> k.divide(c.out, c.b, c.n)),
            op("divide by scalar", (k, c) -> k.divide(c.out, c.w, c.n)),
            op("sumAbs", (k, c) -> c.result(k.sumAbs(c.a, c.n))),
            op("dot", (k, c) -> c.result(k.dot(c.a, c.b, c.n))),
            op("dot with itself", (k, c) -> c.result(k.dot(c.a, c.a, c.n))),
            op("tiesMix m=1", (k, c) -> k.tiesMix(c.rows(1), c.weights(1), 1, c.out, c.out2, c.n)),
            op("tiesMix m=2", (k, c) -> k.tiesMix(c.rows(2), c.weights(2), 2, c.out, c.out2, c.n)),
            op("tiesMix m=3", (k, c) -> k.tiesMix(c.rows(3), c.weights(3), 3, c.out, c.out2, c.n)),
            op("tiesMix m=4", (k, c) -> k.tiesMix(c.rows(4), c.weights(4), 4, c.out, c.out2, c.n)));

    /** Input values: random mixes of specials, and arrays made of one kind of special value only. */
    enum Fill {
        MIXED, GAUSSIAN, NAN, INFINITE, ZERO, SUBNORMAL, HUGE;

        float[] values(Random r, int n) {
            if (this == MIXED) return data(r, n);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                float sign = r.nextBoolean() ? 1 : -1;
                x[i] = switch (this) {
                    case GAUSSIAN -> (float) r.nextGaussian() * 0.02f;
                    case NAN -> Float.intBitsToFloat(0x7f800001 + r.nextInt(0x007fffff)) * sign; // payloads too
                    case INFINITE -> Float.POSITIVE_INFINITY * sign;
                    case ZERO -> 0f * sign;
                    case SUBNORMAL -> Float.intBitsToFloat(r.nextInt(0x007fffff) + 1) * sign;
                    case HUGE -> (0.5f + r.nextFloat()) * 2e38f * sign; // sums and products overflow
                    case MIXED -> throw new AssertionError();
                };
            }
            return x;
        }
    }

    /** One operation: what it does to a {@link Case}. */
    interface Run {
        void on(MergeKernels k, Case c);
    }

    record Op(String name, Run run) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Op op(String name, Run run) {
        return new Op(name, run);
    }

    /**
     * The inputs of one run and the places for its outputs: {@code out} starts as a copy of
     * {@code a} (in-place operations work on it), {@code out2} holds a second output, {@code result}
     * a reduction's value. Built from a seed, so the scalar and the vector run see the same values.
     */
    static final class Case {
        final int n;
        final float[] a, b, c, out, out2;
        final float w;
        private final float[][] rows;
        private final float[] weights;
        double result;

        Case(Fill fill, int n, long seed) {
            Random r = new Random(seed);
            this.n = n;
            a = fill.values(r, n);
            b = fill.values(r, n);
            c = fill.values(r, n);
            w = (float) r.nextGaussian();
            rows = new float[][]{fill.values(r, n), fill.values(r, n), fill.values(r, n), fill.values(r, n)};
            weights = new float[]{(float) r.nextGaussian(), 0f, (float) r.nextGaussian(), (float) r.nextGaussian()};
            out = a.clone();
            out2 = new float[n];
        }

        float[][] rows(int m) {
            return Arrays.copyOf(rows, m);
        }

        float[] weights(int m) {
            return Arrays.copyOf(weights, m);
        }

        void result(double value) {
            result = value;
        }
    }

    static Stream<Arguments> table() {
        return OPS.stream().flatMap(op -> Arrays.stream(Fill.values())
                .flatMap(fill -> Arrays.stream(LENGTHS).mapToObj(n -> Arguments.of(op, fill, n))));
    }

    @ParameterizedTest(name = "{0} on {1} values, n={2}")
    @MethodSource("table")
    void operationAgrees(Op op, Fill fill, int n) {
        long seed = 31L * op.name().hashCode() + 17L * fill.ordinal() + n;
        Case s = new Case(fill, n, seed), v = new Case(fill, n, seed);
        op.run().on(S, s);
        op.run().on(V, v);
        assertBits(s.out, v.out, n, op + " output");
        assertBits(s.out2, v.out2, n, op + " second output");
        assertSameDouble(s.result, v.result, op + " result");
    }

    @Test
    void wordSumsAgree() {
        Random r = new Random(41);
        try (Arena arena = Arena.ofConfined()) {
            for (int words : new int[]{0, 1, 7, 8, 9, 100, 1027}) {
                for (int m = 1; m <= 4; m++) {
                    MemorySegment[] src = new MemorySegment[m];
                    long want = 0;
                    for (int j = 0; j < m; j++) {
                        src[j] = arena.allocate(8L * words + 8).asSlice(r.nextInt(8), 8L * words); // unaligned too
                        for (int i = 0; i < words; i++) {
                            long v = r.nextLong();
                            src[j].set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 8L * i, v);
                            want += v;
                        }
                    }
                    assertEquals(want, S.sumWords(src, m, words), "scalar m=" + m + " words=" + words);
                    assertEquals(want, V.sumWords(src, m, words), "vector m=" + m + " words=" + words);
                }
            }
        }
    }

    @Test
    void convertingBetweenDtypesIsALoadThenAStore() {
        Random r = new Random(12);
        DType[] types = {DType.BF16, DType.F16, DType.F32};
        try (Arena arena = Arena.ofConfined()) {
            for (DType from : types) {
                for (DType to : types) {
                    for (int n : LENGTHS) {
                        MemorySegment src = arena.allocate((long) n * from.byteSize() + 8);
                        // random bits: every NaN payload, subnormals, infinities and overflow cases
                        for (long i = 0; i < src.byteSize(); i++) src.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
                        MemorySegment want = arena.allocate((long) n * to.byteSize() + 8), s = arena.allocate(want.byteSize()),
                                v = arena.allocate(want.byteSize());
                        float[] x = new float[n];
                        S.load(src, from, 0, x, n);
                        S.store(x, n, want, to, 0);
                        S.convert(src, from, s, to, n);
                        V.convert(src, from, v, to, n);
                        assertEquals(-1, want.mismatch(s), "scalar " + from + "->" + to + " n=" + n);
                        assertEquals(-1, want.mismatch(v), "vector " + from + "->" + to + " n=" + n);
                    }
                }
            }
        }
    }

    @Test
    void conversionsAgreeForEveryDtype() {
        Random r = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            for (DType dt : new DType[]{DType.BF16, DType.F16, DType.F32}) {
                for (int n : LENGTHS) {
                    long offset = r.nextInt(5); // unaligned element offsets
                    MemorySegment seg = arena.allocate((n + offset) * dt.byteSize() + 8);
                    for (long i = 0; i < seg.byteSize(); i++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
                    float[] s = new float[n], v = new float[n];
                    S.load(seg, dt, offset, s, n);
                    V.load(seg, dt, offset, v, n);
                    assertBits(s, v, n, "load " + dt);
                    float[] src = data(r, n);
                    MemorySegment so = arena.allocate((n + offset) * dt.byteSize() + 8);
                    MemorySegment vo = arena.allocate((n + offset) * dt.byteSize() + 8);
                    S.store(src, n, so, dt, offset);
                    V.store(src, n, vo, dt, offset);
                    assertEquals(-1, so.mismatch(vo), "store " + dt + " n=" + n);
                }
            }
        }
    }

    @Test
    void fusedWeightedSumEqualsAxpyAndAgrees() {
        Random r = new Random(13);
        try (Arena arena = Arena.ofConfined()) {
            for (DType dt : new DType[]{DType.BF16, DType.F16, DType.F32}) {
                for (int n : LENGTHS) {
                    int m = 1 + r.nextInt(4);
                    long offset = r.nextInt(3);
                    MemorySegment[] src = new MemorySegment[m];
                    float[] w = new float[m];
                    float[] viaAxpy = new float[n], x = new float[n];
                    for (int j = 0; j < m; j++) {
                        src[j] = arena.allocate((n + offset) * dt.byteSize() + 8);
                        for (long i = 0; i < src[j].byteSize(); i++) src[j].set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
                        w[j] = (float) r.nextGaussian();
                        S.load(src[j], dt, offset, x, n);
                        S.axpy(viaAxpy, x, w[j], n);
                    }
                    float[] s = new float[n], v = new float[n];
                    S.weightedSum(src, dt, offset, w, m, s, n);
                    V.weightedSum(src, dt, offset, w, m, v, n);
                    assertBits(viaAxpy, s, n, "scalar weightedSum vs axpy " + dt);
                    assertBits(s, v, n, "weightedSum " + dt);
                    float d = (float) r.nextGaussian();
                    float[] sm = new float[n], vm = new float[n];
                    S.weightedMean(src, dt, offset, w, m, d, sm, n);
                    V.weightedMean(src, dt, offset, w, m, d, vm, n);
                    S.divide(s, d, n);
                    V.divide(v, d, n);
                    assertBits(s, v, n, "divide by scalar");
                    assertBits(s, sm, n, "scalar weightedMean is sum then divide");
                    assertBits(sm, vm, n, "weightedMean " + dt);
                }
            }
        }
    }

    @Test
    void fusedWeightedMeanStoreEqualsComputeThenStore() {
        Random r = new Random(19);
        try (Arena arena = Arena.ofConfined()) {
            for (DType dt : new DType[]{DType.BF16, DType.F16, DType.F32}) {
                for (DType out : new DType[]{DType.BF16, DType.F16, DType.F32}) {
                    for (int n : LENGTHS) {
                        int m = 1 + r.nextInt(4);
                        if (dt == DType.BF16 && out == DType.BF16) m = 2 + (n & 1); // the fused loops
                        long offset = r.nextInt(3), dOff = r.nextInt(3);
                        MemorySegment[] src = new MemorySegment[m];
                        float[] w = new float[m];
                        for (int j = 0; j < m; j++) {
                            src[j] = arena.allocate((n + offset) * dt.byteSize() + 8);
                            for (long i = 0; i < src[j].byteSize(); i++) src[j].set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
                            w[j] = (float) r.nextGaussian();
                        }
                        boolean divide = r.nextBoolean();
                        float d = (float) r.nextGaussian();
                        float[] ref = new float[n];
                        if (divide) S.weightedMean(src, dt, offset, w, m, d, ref, n);
                        else S.weightedSum(src, dt, offset, w, m, ref, n);
                        long bytes = (n + dOff) * out.byteSize() + 8;
                        MemorySegment expected = arena.allocate(bytes), so = arena.allocate(bytes), vo = arena.allocate(bytes);
                        S.store(ref, n, expected, out, dOff);
                        S.weightedMeanStore(src, dt, offset, w, m, divide, d, so, out, dOff, new float[n], n);
                        V.weightedMeanStore(src, dt, offset, w, m, divide, d, vo, out, dOff, new float[n], n);
                        assertEquals(-1, expected.mismatch(so), "scalar weightedMeanStore " + dt + "->" + out + " n=" + n);
                        assertEquals(-1, expected.mismatch(vo), "vector weightedMeanStore " + dt + "->" + out + " m=" + m + " n=" + n);
                    }
                }
            }
        }
    }

    @Test
    void fusedDeltaAndFinishAgree() {
        Random r = new Random(31);
        try (Arena arena = Arena.ofConfined()) {
            for (DType dt : new DType[]{DType.BF16, DType.F16, DType.F32}) {
                for (int n : LENGTHS) {
                    long offset = r.nextInt(3);
                    MemorySegment src = arena.allocate((n + offset) * dt.byteSize() + 8);
                    for (long i = 0; i < src.byteSize(); i++) src.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) r.nextInt());
                    float[] base = data(r, n), ref = new float[n], s = new float[n], v = new float[n];
                    S.load(src, dt, offset, ref, n);
                    S.sub(ref, base, ref, n);
                    S.loadDelta(src, dt, offset, base, s, n);
                    V.loadDelta(src, dt, offset, base, v, n);
                    assertBits(ref, s, n, "scalar loadDelta " + dt);
                    assertBits(ref, v, n, "vector loadDelta " + dt);

                    float[] mixed = data(r, n), div = data(r, n);
                    boolean divide = r.nextBoolean();
                    float lambda = r.nextBoolean() ? 1f : (float) r.nextGaussian();
                    float[] expect = mixed.clone();
                    if (divide) S.divide(expect, div, n);
                    if (lambda != 1f) S.scale(expect, lambda, n);
                    S.add(base, expect, expect, n);
                    long bytes = (n + offset) * dt.byteSize() + 8;
                    MemorySegment eo = arena.allocate(bytes), so = arena.allocate(bytes), vo = arena.allocate(bytes);
                    S.store(expect, n, eo, dt, offset);
                    S.finishStore(mixed.clone(), divide ? div : null, lambda, base, so, dt, offset, n);
                    V.finishStore(mixed.clone(), divide ? div : null, lambda, base, vo, dt, offset, n);
                    assertEquals(-1, eo.mismatch(so), "scalar finishStore " + dt + " n=" + n);
                    assertEquals(-1, eo.mismatch(vo), "vector finishStore " + dt + " n=" + n);
                }
            }
        }
    }

    @Test
    void dareDropoutAgreesAndMatchesTheUniformDraws() {
        Random r = new Random(23);
        CounterRandom stream = new CounterRandom(7, "model.layers.3.mlp.down_proj.weight", 1);
        float[] densities = {0f, 1e-7f, 0.1f, 0.5f, 0.9f, 1f, 1.5f, -0.5f, Float.NaN, Float.POSITIVE_INFINITY};
        long[] offsets = {0, 5, 1L << 33, Long.MAX_VALUE / 2};
        for (int n : LENGTHS) {
            for (float density : densities) {
                for (long from : offsets) {
                    float[] x = data(r, n);
                    float[] s = x.clone(), v = x.clone();
                    S.dropout(s, n, from, stream.key(), density);
                    V.dropout(v, n, from, stream.key(), density);
                    assertBits(s, v, n, "dropout density " + density + " from " + from);
                    for (int i = 0; i < n; i++) {
                        // the decision is the documented one: dropped exactly when uniform >= density
                        float expect = stream.uniform(from + i) >= density ? x[i] * 0f : x[i];
                        if (!(Float.isNaN(expect) && Float.isNaN(s[i]))) {
                            assertEquals(Float.floatToRawIntBits(expect), Float.floatToRawIntBits(s[i]), "element " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void topKMaskAndBucketCountAgree() {
        Random r = new Random(17);
        for (int n : LENGTHS) {
            float[] x = data(r, n);
            for (int i = 0; i < n; i += 3) x[i] = 0.5f * (r.nextBoolean() ? 1 : -1); // many ties
            int key = MagnitudeSelect.key(0.5f);
            long ties = r.nextInt(n + 1);
            float[] s = x.clone(), v = x.clone();
            long sl = S.keepTop(s, n, key, ties);
            long vl = V.keepTop(v, n, key, ties);
            assertEquals(sl, vl);
            assertBits(s, v, n, "keepTop");
            long[] ls = new long[1 << 16], lv = new long[1 << 16];
            S.countInBucket(x, n, key >>> 16, ls);
            V.countInBucket(x, n, key >>> 16, lv);
            assertArrayEquals(ls, lv);
        }
    }

    @Test
    void every16BitPatternWidensIdentically() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(2L * 65536);
            for (int h = 0; h < 65536; h++) seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, h, (short) h);
            for (DType dt : new DType[]{DType.BF16, DType.F16}) {
                float[] s = new float[65536], v = new float[65536];
                S.load(seg, dt, 0, s, 65536);
                V.load(seg, dt, 0, v, 65536);
                assertBits(s, v, 65536, "all patterns " + dt);
            }
        }
    }

    /** BF16 segments: a base and inputs that differ from it by a few repeated steps (many equal keys), plus specials. */
    private static MemorySegment[] bf16Inputs(Arena arena, Random r, int m, int n, long offset) {
        MemorySegment[] out = new MemorySegment[m + 1];
        float[] base = data(r, n);
        for (int j = 0; j <= m; j++) {
            out[j] = arena.allocate((n + offset) * 2 + 8);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = j == 0 ? base[i] : r.nextInt(5) == 0 ? data(r, 1)[0] : base[i] + (r.nextInt(7) - 3) * 0.0078125f;
            }
            S.store(x, n, out[j], DType.BF16, offset);
        }
        return out;
    }

    @Test
    void fusedBracketOfTheTaskVectorEqualsDeltaThenBracket() {
        Random r = new Random(23);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : LENGTHS) {
                long offset = r.nextInt(3);
                MemorySegment[] seg = bf16Inputs(arena, r, 1, n, offset);
                float[] base = new float[n], d = new float[n];
                S.load(seg[0], DType.BF16, offset, base, n);
                S.loadDelta(seg[1], DType.BF16, offset, base, d, n);
                // finite brackets, and brackets reaching infinity and the NaN key (where NaN
                // payloads must all count as the one NaN key)
                int[] his = {n == 0 ? 0 : MagnitudeSelect.key(d[r.nextInt(n)]), 0x7f800000, MagnitudeSelect.NAN_KEY,
                        Integer.MAX_VALUE, 0x7f7fffff};
                for (int hi : his) {
                    int lo = r.nextBoolean() ? hi : Math.max(0, hi - r.nextInt(1 << 24));
                    float[] eo = new float[n + 64], so = new float[n + 64], vo = new float[n + 64];
                    long[] es = {1, 3, 2, 5}, ss = es.clone(), vs = es.clone();
                    S.bracket(d, n, lo, hi, eo, es);
                    S.bracketDeltaBf16(seg[1], seg[0], offset, n, lo, hi, so, ss);
                    V.bracketDeltaBf16(seg[1], seg[0], offset, n, lo, hi, vo, vs);
                    String what = " n=" + n + " bracket " + Integer.toHexString(lo) + ".." + Integer.toHexString(hi);
                    assertArrayEquals(es, ss, "scalar bracketDeltaBf16" + what);
                    assertArrayEquals(es, vs, "vector bracketDeltaBf16" + what);
                    assertBits(eo, so, (int) es[1], "scalar collected keys" + what);
                    // the vector kernel collects in an order of its own: the same keys, sorted
                    int c = (int) es[1];
                    int[] want = new int[c], got = new int[c];
                    for (int i = 0; i < c; i++) {
                        want[i] = Float.floatToRawIntBits(eo[i]);
                        got[i] = Float.floatToRawIntBits(vo[i]);
                    }
                    java.util.Arrays.sort(want);
                    java.util.Arrays.sort(got);
                    assertArrayEquals(want, got, "vector collected keys" + what);
                }
            }
        }
    }

    @Test
    void fusedTiesOutputEqualsTheSeparateKernels() {
        Random r = new Random(29);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : LENGTHS) {
                for (int m = 1; m <= 4; m++) {
                    long offset = r.nextInt(3), dOff = r.nextInt(3);
                    MemorySegment[] seg = bf16Inputs(arena, r, m, n, offset);
                    MemorySegment[] xs = Arrays.copyOfRange(seg, 1, m + 1);
                    float[] base = new float[n];
                    S.load(seg[0], DType.BF16, offset, base, n);
                    int[] thr = new int[m];
                    long[] left = new long[m];
                    float[] rescale = new float[m], w = new float[m];
                    float[][] d = new float[m][n];
                    for (int j = 0; j < m; j++) {
                        S.loadDelta(xs[j], DType.BF16, offset, base, d[j], n);
                        thr[j] = r.nextInt(4) == 0 || n == 0 ? -1 : MagnitudeSelect.key(d[j][r.nextInt(n)]);
                        left[j] = r.nextInt(n / 4 + 2);
                        rescale[j] = r.nextBoolean() ? 1f : 1.5f + r.nextFloat();
                        w[j] = r.nextInt(5) == 0 ? 0f : (float) r.nextGaussian();
                    }
                    boolean normalize = r.nextBoolean();
                    float lambda = r.nextBoolean() ? 1f : (float) r.nextGaussian();
                    // the reference: the separate kernels one after the other
                    long[] refLeft = left.clone();
                    for (int j = 0; j < m; j++) {
                        if (thr[j] >= 0) refLeft[j] = S.keepTop(d[j], n, thr[j], refLeft[j]);
                        if (rescale[j] != 1f) S.scale(d[j], rescale[j], n);
                        S.scale(d[j], w[j], n);
                    }
                    float[] mixed = new float[n], divisor = new float[n];
                    S.tiesMix(d, w, m, mixed, divisor, n);
                    long bytes = (n + dOff) * 2 + 8;
                    MemorySegment expected = arena.allocate(bytes), so = arena.allocate(bytes), vo = arena.allocate(bytes);
                    S.finishStore(mixed, normalize ? divisor : null, lambda, base, expected, DType.BF16, dOff, n);
                    long[] sl = left.clone(), vl = left.clone();
                    for (int j = 0; j < m; j++) if (thr[j] < 0) refLeft[j] = left[j];
                    float[][] sw = new float[m][n], vw = new float[m][n];
                    for (int j = 0; j < m; j++) {
                        sl[j] = S.maskedDeltaBf16(xs[j], seg[0], offset, thr[j], sl[j], rescale[j], w[j], sw[j], n);
                        vl[j] = V.maskedDeltaBf16(xs[j], seg[0], offset, thr[j], vl[j], rescale[j], w[j], vw[j], n);
                        if (thr[j] < 0) sl[j] = vl[j] = left[j];
                        assertBits(d[j], sw[j], n, "scalar maskedDeltaBf16");
                        assertBits(d[j], vw[j], n, "vector maskedDeltaBf16");
                    }
                    var finish = new MergeKernels.TiesFinish(w, m, normalize, lambda);
                    S.tiesCombineBf16(sw, finish, seg[0], offset, so, dOff, n);
                    V.tiesCombineBf16(vw, finish, seg[0], offset, vo, dOff, n);
                    assertEquals(-1, expected.mismatch(so), "scalar ties output m=" + m + " n=" + n);
                    assertEquals(-1, expected.mismatch(vo), "vector ties output m=" + m + " n=" + n);
                    assertArrayEquals(refLeft, sl, "scalar tie quota m=" + m + " n=" + n);
                    assertArrayEquals(refLeft, vl, "vector tie quota m=" + m + " n=" + n);
                }
            }
        }
    }

    @Test
    void wholeTiesOutputEqualsTheSeparateKernels() {
        Random r = new Random(31);
        // and one call longer than the scalar twin's blocks: its quotas must carry across them
        int[] lengths = java.util.stream.IntStream.concat(java.util.Arrays.stream(LENGTHS),
                java.util.stream.IntStream.of(2 * ScalarKernels.TIES_BLOCK + 7)).toArray();
        try (Arena arena = Arena.ofConfined()) {
            for (int rep = 0; rep < 3; rep++) {
                for (int n : lengths) {
                    for (int m = 1; m <= 4; m++) {
                        long offset = r.nextInt(3), dOff = r.nextInt(3);
                        MemorySegment[] seg = bf16Inputs(arena, r, m, n, offset);
                        MemorySegment[] xs = Arrays.copyOfRange(seg, 1, m + 1);
                        float[] base = new float[n], d = new float[n];
                        S.load(seg[0], DType.BF16, offset, base, n);
                        int[] thr = new int[m];
                        long[] left = new long[m];
                        float[] w = new float[m];
                        for (int j = 0; j < m; j++) {
                            S.loadDelta(xs[j], DType.BF16, offset, base, d, n);
                            // mostly finite thresholds (the vector path); -1 keeps all
                            int kind = r.nextInt(8);
                            thr[j] = kind == 0 || n == 0 ? -1 : MagnitudeSelect.key(kind == 1 ? d[r.nextInt(n)]
                                    : (r.nextInt(7) - 3) * 0.0078125f);
                            left[j] = r.nextInt(n / 4 + 2);
                            w[j] = r.nextInt(5) == 0 ? 0f : (float) r.nextGaussian();
                        }
                        boolean normalize = r.nextBoolean();
                        float lambda = r.nextBoolean() ? 1f : (float) r.nextGaussian();
                        long bytes = (n + dOff) * 2 + 8;
                        MemorySegment expected = arena.allocate(bytes), so = arena.allocate(bytes), vo = arena.allocate(bytes);
                        long[] el = left.clone(), sl = left.clone(), vl = left.clone();
                        float[][] weighted = new float[m][n];
                        for (int j = 0; j < m; j++) {
                            el[j] = S.maskedDeltaBf16(xs[j], seg[0], offset, thr[j], el[j], 1f, w[j], weighted[j], n);
                        }
                        var finish = new MergeKernels.TiesFinish(w, m, normalize, lambda);
                        S.tiesCombineBf16(weighted, finish, seg[0], offset, expected, dOff, n);
                        S.tiesOutputBf16(seg[0], xs, offset, thr, sl, finish, so, dOff, n);
                        V.tiesOutputBf16(seg[0], xs, offset, thr, vl, finish, vo, dOff, n);
                        String what = " m=" + m + " n=" + n + " thresholds " + java.util.Arrays.toString(thr);
                        assertEquals(-1, expected.mismatch(so), "scalar" + what);
                        assertEquals(-1, expected.mismatch(vo), "vector" + what);
                        for (int j = 0; j < m; j++) {
                            if (thr[j] < 0) continue; // no quota
                            assertEquals(el[j], sl[j], "scalar tie quota" + what);
                            assertEquals(el[j], vl[j], "vector tie quota" + what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void fusedTaskArithmeticEqualsTheSeparateKernels() {
        Random r = new Random(37);
        try (Arena arena = Arena.ofConfined()) {
            for (int n : LENGTHS) {
                for (int m = 1; m <= 4; m++) {
                    long offset = r.nextInt(3), dOff = r.nextInt(3);
                    MemorySegment[] seg = bf16Inputs(arena, r, m, n, offset);
                    MemorySegment[] xs = Arrays.copyOfRange(seg, 1, m + 1);
                    float[] base = new float[n], w = new float[m];
                    S.load(seg[0], DType.BF16, offset, base, n);
                    float[][] d = new float[m][n];
                    for (int j = 0; j < m; j++) {
                        w[j] = r.nextInt(6) == 0 ? 0f : (float) r.nextGaussian();
                        S.loadDelta(xs[j], DType.BF16, offset, base, d[j], n);
                        S.scale(d[j], w[j], n);
                    }
                    float[] mixed = d[0].clone();
                    for (int j = 1; j < m; j++) S.add(mixed, d[j], mixed, n);
                    boolean divide = r.nextBoolean();
                    float divisor = (float) r.nextGaussian();
                    float lambda = r.nextBoolean() ? 1f : (float) r.nextGaussian();
                    float[] div = new float[n];
                    java.util.Arrays.fill(div, divisor);
                    long bytes = (n + dOff) * 2 + 8;
                    MemorySegment expected = arena.allocate(bytes), so = arena.allocate(bytes), vo = arena.allocate(bytes);
                    S.finishStore(mixed, divide ? div : null, lambda, base, expected, DType.BF16, dOff, n);
                    var sum = new MergeKernels.TaskSum(w, m, divide, divisor, lambda);
                    S.taskSumStoreBf16(seg[0], xs, offset, sum, so, dOff, n);
                    V.taskSumStoreBf16(seg[0], xs, offset, sum, vo, dOff, n);
                    assertEquals(-1, expected.mismatch(so), "scalar taskSumStoreBf16 m=" + m + " n=" + n);
                    assertEquals(-1, expected.mismatch(vo), "vector taskSumStoreBf16 m=" + m + " n=" + n);
                }
            }
        }
    }

    @Test
    void f16NarrowingAgreesWithTheJdkOverTheWholeHalfRange() {
        // every 13th float bit pattern from below the smallest subnormal half to past the overflow
        // point, both signs, plus the rounding boundaries and specials
        int n = 1 << 16;
        float[] x = new float[n];
        MemorySegment so = Arena.ofAuto().allocate(2L * n), vo = Arena.ofAuto().allocate(2L * n);
        int[] edges = {0, 0x33000000, 0x33000001, 0x337fffff, 0x38800000, 0x387fffff, 0x387ff000, 0x38801000,
                0x477fe000, 0x477fefff, 0x477ff000, 0x477fffff, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7fffffff};
        long checked = 0;
        for (long bits = 0x33000000L - 13L * n; bits < 0x47900000L; ) {
            int len = 0;
            while (len < n && bits < 0x47900000L) {
                int b = (int) Math.max(0, bits);
                x[len++] = Float.intBitsToFloat((len & 1) == 0 ? b : b | 0x80000000);
                bits += 13;
            }
            for (int e = 0; e < edges.length && len + 2 <= n; e++) {
                x[len++] = Float.intBitsToFloat(edges[e]);
                x[len++] = Float.intBitsToFloat(edges[e] | 0x80000000);
            }
            S.store(x, len, so, DType.F16, 0);
            V.store(x, len, vo, DType.F16, 0);
            long at = so.asSlice(0, 2L * len).mismatch(vo.asSlice(0, 2L * len));
            assertEquals(-1, at, () -> "F16 of " + Integer.toHexString(Float.floatToRawIntBits(x[(int) Math.max(0, at) / 2])));
            for (int i = 0; i < len; i++) {
                short want = Float.isNaN(x[i]) ? (short) 0x7e00 : Float.floatToFloat16(x[i]);
                assertEquals(want, so.getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, i), "scalar F16 reference");
            }
            checked += len;
        }
        assertTrue(checked > 20_000_000, "covered " + checked);
    }
}
