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
        float[] acc = new float[LANES];
        int blocks = cols - cols % LANES;
        for (int r = fromRow; r < toRow; r++) {
            long base = (long) r * cols;
            switch (F.length()) {
                case 16 -> dot16(w, bf16, base, blocks, x, acc);
                case 8 -> dot8(w, bf16, base, blocks, x, acc);
                default -> dot4(w, bf16, base, blocks, x, acc);
            }
            y[r] = ScalarMatVec.tail(w, dtype, base, cols, blocks, x, acc);
        }
    }

    /** Lanes 0-15 and 16-31 in one accumulator each. */
    private static void dot16(MemorySegment w, boolean bf16, long base, int blocks, float[] x, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        for (int i = 0; i < blocks; i += 32) {
            a0 = a0.add(load(w, bf16, base + i).mul(FloatVector.fromArray(F, x, i)));
            a1 = a1.add(load(w, bf16, base + i + 16).mul(FloatVector.fromArray(F, x, i + 16)));
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 16);
    }

    private static void dot8(MemorySegment w, boolean bf16, long base, int blocks, float[] x, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int i = 0; i < blocks; i += 32) {
            a0 = a0.add(load(w, bf16, base + i).mul(FloatVector.fromArray(F, x, i)));
            a1 = a1.add(load(w, bf16, base + i + 8).mul(FloatVector.fromArray(F, x, i + 8)));
            a2 = a2.add(load(w, bf16, base + i + 16).mul(FloatVector.fromArray(F, x, i + 16)));
            a3 = a3.add(load(w, bf16, base + i + 24).mul(FloatVector.fromArray(F, x, i + 24)));
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, 8);
        a2.intoArray(acc, 16);
        a3.intoArray(acc, 24);
    }

    private static void dot4(MemorySegment w, boolean bf16, long base, int blocks, float[] x, float[] acc) {
        FloatVector[] a = new FloatVector[8];
        for (int k = 0; k < 8; k++) a[k] = FloatVector.zero(F);
        for (int i = 0; i < blocks; i += 32) {
            for (int k = 0; k < 8; k++) {
                a[k] = a[k].add(load(w, bf16, base + i + 4L * k).mul(FloatVector.fromArray(F, x, i + 4 * k)));
            }
        }
        for (int k = 0; k < 8; k++) a[k].intoArray(acc, 4 * k);
    }

    /** Small and static so C2 inlines it (a Vector returned from a call that is not inlined is boxed). */
    private static FloatVector load(MemorySegment w, boolean bf16, long elem) {
        if (!bf16) return FloatVector.fromMemorySegment(F, w, 4 * elem, LE);
        IntVector v = (IntVector) ShortVector.fromMemorySegment(S, w, 2 * elem, LE).convertShape(VectorOperators.S2I, I, 0);
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
