package dev.amalgam.model.kernel;

import dev.amalgam.safetensors.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector API matrix-vector rows ({@code FloatVector.SPECIES_PREFERRED}, 4 to 16 lanes): the
 * {@value MatVec#LANES} virtual lanes are held in 32/L accumulators of L lanes each, so the sums
 * are those of {@link ScalarMatVec} bit for bit. BF16 is widened in registers (a shift), F16 rows
 * go to the scalar twin (this JDK's Vector API has no F16 conversion; F16 checkpoints are rare).
 */
final class VectorMatVec implements MatVec {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S =
            VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ScalarMatVec SCALAR = new ScalarMatVec();

    static int preferredBits() {
        return F.vectorBitSize();
    }

    @Override
    public String name() {
        return "vector-" + F.length() + "x32";
    }

    @Override
    public void rows(MemorySegment w, DType dtype, int cols, float[] x, float[] y, int fromRow, int toRow) {
        if (dtype == DType.F16 || LANES % F.length() != 0) {
            SCALAR.rows(w, dtype, cols, x, y, fromRow, toRow);
            return;
        }
        boolean bf16 = dtype == DType.BF16;
        if (!bf16 && dtype != DType.F32) {
            throw new IllegalArgumentException("weights of dtype " + dtype + " cannot be multiplied (BF16, F16 or F32)");
        }
        float[] acc = new float[4 * LANES];
        int blocks = cols - cols % LANES;
        int r = fromRow;
        // four rows at a time: their lane sums are independent chains the CPU overlaps (one row's
        // 32 dependent additions cost about as much as its vector loop at 768 columns). A fused
        // four-row vector loop was 10x slower: C2 stopped inlining load() and boxed the vectors.
        for (; r + 4 <= toRow; r += 4) {
            long base = (long) r * cols;
            for (int j = 0; j < 4; j++) dotRow(w, bf16, base + (long) j * cols, blocks, x, acc, j * LANES);
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            for (int l = 0; l < LANES; l++) {
                s0 = s0 + acc[l];
                s1 = s1 + acc[LANES + l];
                s2 = s2 + acc[2 * LANES + l];
                s3 = s3 + acc[3 * LANES + l];
            }
            y[r] = tail(w, dtype, base, cols, blocks, x, s0);
            y[r + 1] = tail(w, dtype, base + cols, cols, blocks, x, s1);
            y[r + 2] = tail(w, dtype, base + 2L * cols, cols, blocks, x, s2);
            y[r + 3] = tail(w, dtype, base + 3L * cols, cols, blocks, x, s3);
        }
        for (; r < toRow; r++) {
            long base = (long) r * cols;
            dotRow(w, bf16, base, blocks, x, acc, 0);
            float s = 0f;
            for (int l = 0; l < LANES; l++) s = s + acc[l];
            y[r] = tail(w, dtype, base, cols, blocks, x, s);
        }
    }

    /** s plus the elements [from, cols) of the row one by one, as the scalar twin ends. */
    private static float tail(MemorySegment w, DType dtype, long base, int cols, int from, float[] x, float s) {
        for (int i = from; i < cols; i++) s = s + ScalarMatVec.weight(w, dtype, base + i) * x[i];
        return s;
    }

    private static void dotRow(MemorySegment w, boolean bf16, long base, int blocks, float[] x, float[] acc, int at) {
        switch (F.length()) {
            case 16 -> dot16(w, bf16, base, blocks, x, acc, at);
            case 8 -> dot8(w, bf16, base, blocks, x, acc, at);
            default -> dot4(w, bf16, base, blocks, x, acc, at);
        }
    }

    /** Lanes 0-15 and 16-31 in one accumulator each. */
    private static void dot16(MemorySegment w, boolean bf16, long base, int blocks, float[] x, float[] acc, int at) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int i = 0; i < blocks; i += 32) {
            a0 = a0.add(load(w, bf16, base + i).mul(FloatVector.fromArray(F, x, i)));
            a1 = a1.add(load(w, bf16, base + i + 16).mul(FloatVector.fromArray(F, x, i + 16)));
        }
        a0.intoArray(acc, at);
        a1.intoArray(acc, at + 16);
    }

    private static void dot8(MemorySegment w, boolean bf16, long base, int blocks, float[] x, float[] acc, int at) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int i = 0; i < blocks; i += 32) {
            a0 = a0.add(load(w, bf16, base + i).mul(FloatVector.fromArray(F, x, i)));
            a1 = a1.add(load(w, bf16, base + i + 8).mul(FloatVector.fromArray(F, x, i + 8)));
            a2 = a2.add(load(w, bf16, base + i + 16).mul(FloatVector.fromArray(F, x, i + 16)));
            a3 = a3.add(load(w, bf16, base + i + 24).mul(FloatVector.fromArray(F, x, i + 24)));
        }
        a0.intoArray(acc, at);
        a1.intoArray(acc, at + 8);
        a2.intoArray(acc, at + 16);
        a3.intoArray(acc, at + 24);
    }

    private static void dot4(MemorySegment w, boolean bf16, long base, int blocks, float[] x, float[] acc, int at) {
        FloatVector[] a = new FloatVector[8];
        for (int k = 0; k < 8; k++) a[k] = FloatVector.zero(F);
        for (int i = 0; i < blocks; i += 32) {
            for (int k = 0; k < 8; k++) {
                a[k] = a[k].add(load(w, bf16, base + i + 4L * k).mul(FloatVector.fromArray(F, x, i + 4 * k)));
            }
        }
        for (int k = 0; k < 8; k++) a[k].intoArray(acc, at + 4 * k);
    }

    /** Small and static so C2 inlines it (a Vector returned from a call that is not inlined is boxed). */
    private static FloatVector load(MemorySegment w, boolean bf16, long elem) {
        if (!bf16) return FloatVector.fromMemorySegment(F, w, 4 * elem, LE);
        IntVector v = (IntVector) ShortVector.fromMemorySegment(S, w, 2 * elem, LE).convertShape(VectorOperators.S2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
