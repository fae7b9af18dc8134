package dev.amalgam.safetensors;

/**
 * Scalar conversions between F32 and the 16-bit float formats: round-to-nearest-even, NaN and
 * infinities kept (a NaN stays a NaN with its sign; overflow rounds to infinity as IEEE says).
 * These are the reference the vectorised kernels are tested against.
 */
public final class FloatFormats {
    private FloatFormats() {
    }

    public static float bf16ToF32(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    public static short f32ToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            // NaN: truncate and force the quiet bit so the payload cannot round to infinity
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float f16ToF32(short h) {
        return Float.float16ToFloat(h);
    }

    /** JDK's conversion is round-to-nearest-even and keeps NaN/infinity. */
    public static short f32ToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
