package dev.amalgam.model.kernel;

import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.FloatFormats;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The vector matrix-vector kernel equals its scalar twin bit for bit: every dtype, odd widths, specials. */
class MatVecEquivalenceTest {
    private static final int[] COLS = {1, 7, 16, 31, 32, 33, 64, 100, 257, 1000};
    private static MatVec vector;

    @BeforeAll
    static void vector() {
        vector = MatVecs.vectorOrNull();
        assertNotNull(vector, "tests run with --add-modules=jdk.incubator.vector");
        String expected = System.getProperty("amalgam.expect.kernels");
        if (expected != null) assertEquals(expected.replace("x32", "") + "x32", vector.name());
    }

    static Stream<Arguments> cases() {
        return Stream.of(DType.BF16, DType.F32, DType.F16).flatMap(d -> java.util.Arrays.stream(COLS).mapToObj(c -> Arguments.of(d, c)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void vectorEqualsScalar(DType dtype, int cols) {
        Random r = new Random(cols * 31L + dtype.ordinal());
        int rows = 9; // two groups of four rows and one row alone
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate((long) rows * cols * dtype.byteSize() + 64);
            for (long i = 0; i < (long) rows * cols; i++) {
                float f = value(r);
                switch (dtype) {
                    case BF16 -> w.setAtIndex(ScalarMatVec.SHORT, i, FloatFormats.f32ToBf16(f));
                    case F16 -> w.setAtIndex(ScalarMatVec.SHORT, i, FloatFormats.f32ToF16(f));
                    default -> w.setAtIndex(ScalarMatVec.FLOAT, i, f);
                }
            }
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = value(r);
            float[] ys = new float[rows], yv = new float[rows];
            MatVecs.scalar().rows(w, dtype, cols, x, ys, 0, rows);
            vector.rows(w, dtype, cols, x, yv, 0, rows);
            for (int i = 0; i < rows; i++) assertSame(ys[i], yv[i], dtype + " cols " + cols + " row " + i);
            // a range of rows writes only those rows
            float[] part = new float[rows];
            vector.rows(w, dtype, cols, x, part, 1, 3);
            assertEquals(0f, part[0]);
            assertSame(ys[2], part[2], "row 2 of a range");
            assertEquals(0f, part[3]);
        }
    }

    /**
     * Bit for bit, except that any NaN equals any NaN: which NaN a sum of two NaNs returns is
     * unspecified in Java (the JIT may swap operands).
     */
    private static void assertSame(float want, float got, String what) {
        if (Float.isNaN(want) && Float.isNaN(got)) return;
        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), what + ": " + want + " vs " + got);
    }

    /** Mostly ordinary values, some huge, tiny, zero and non-finite. */
    private static float value(Random r) {
        return switch (r.nextInt(40)) {
            case 0 -> Float.NaN;
            case 1 -> Float.POSITIVE_INFINITY;
            case 2 -> -0f;
            case 3 -> 3e4f * (r.nextBoolean() ? 1 : -1);
            case 4 -> 1e-30f;
            default -> (float) r.nextGaussian();
        };
    }
}
