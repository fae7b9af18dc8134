package dev.amalgam.safetensors;

/**
 * Scalar conversions between F32 and the 16-bit float formats: round-to-nearest-even, infinities
 * kept, overflow rounds to infinity as IEEE says. Every NaN is written as one canonical quiet NaN:
 * Java (and x86) do not define which NaN's sign and payload an operation on two NaNs returns, so
 * keeping them would make output bytes depend on the JIT and the vector width.
 * These are the reference the vectorised kernels are tested against.
 */
public final class FloatFormats {
    private FloatFormats() {
    }

    public static float bf16ToF32(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    /** The one NaN written in each format: NaN sign and payload are not reproducible in Java arithmetic. */
    public static final short BF16_NAN = 0x7fc0;
    public static final short F16_NAN = 0x7e00;
    public static final int F32_NAN = 0x7fc00000;

    public static short f32ToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return BF16_NAN;
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToF32(short h) {
        return Float.float16ToFloat(h);
    }

    /** JDK's conversion is round-to-nearest-even and keeps infinity; NaN becomes the canonical one. */
    public static short f32ToF16(float f) {
        return Float.isNaN(f) ? F16_NAN : Float.floatToFloat16(f);
    }

    /** F32 as written: the value itself, NaN made canonical. */
    public static int f32Bits(float f) {
        return Float.isNaN(f) ? F32_NAN : Float.floatToRawIntBits(f);
    }

    /** {@code f} converted to {@code to} (rounded to nearest even, NaN canonical) and widened back. */
    public static float round(float f, DType to) {
        return switch (to) {
            case BF16 -> bf16ToF32(f32ToBf16(f));
            case F16 -> f16ToF32(f32ToF16(f));
            case F32 -> Float.intBitsToFloat(f32Bits(f));
            default -> throw new IllegalArgumentException("cannot round to " + to);
        };
    }
}
