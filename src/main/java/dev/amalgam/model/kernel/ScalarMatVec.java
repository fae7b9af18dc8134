package dev.amalgam.model.kernel;

import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.FloatFormats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The scalar twin of {@link VectorMatVec}: the reference order of every sum. */
final class ScalarMatVec implements MatVec {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void rows(MemorySegment w, DType dtype, int cols, float[] x, float[] y, int fromRow, int toRow) {
        float[] acc = new float[LANES];
        for (int r = fromRow; r < toRow; r++) y[r] = row(w, dtype, (long) r * cols, cols, x, acc);
    }

    /** One row's dot product from element {@code base} of w, in the order {@link MatVec} fixes. */
    static float row(MemorySegment w, DType dtype, long base, int cols, float[] x, float[] acc) {
        java.util.Arrays.fill(acc, 0f);
        int blocks = cols - cols % LANES;
        for (int i = 0; i < blocks; i++) acc[i % LANES] = acc[i % LANES] + weight(w, dtype, base + i) * x[i];
        return tail(w, dtype, base, cols, blocks, x, acc);
    }

    /** The lanes summed in lane order, then elements [from, cols) one by one. */
    static float tail(MemorySegment w, DType dtype, long base, int cols, int from, float[] x, float[] acc) {
        float s = 0f;
        for (int l = 0; l < LANES; l++) s = s + acc[l];
        for (int i = from; i < cols; i++) s = s + weight(w, dtype, base + i) * x[i];
        return s;
    }

    static float weight(MemorySegment w, DType dtype, long i) {
        return switch (dtype) {
            case BF16 -> FloatFormats.bf16ToF32(w.getAtIndex(SHORT, i));
            case F16 -> FloatFormats.f16ToF32(w.getAtIndex(SHORT, i));
            case F32 -> w.getAtIndex(FLOAT, i);
            default -> throw new IllegalArgumentException("weights of dtype " + dtype + " cannot be multiplied (BF16, F16 or F32)");
        };
    }
}
