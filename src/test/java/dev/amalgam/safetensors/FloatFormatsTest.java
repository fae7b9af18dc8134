package dev.amalgam.safetensors;

import org.junit.jupiter.api.Test;

import static dev.amalgam.safetensors.FloatFormats.*;
import static org.junit.jupiter.api.Assertions.*;

class FloatFormatsTest {
    private static float f(int bits) {
        return Float.intBitsToFloat(bits);
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, f32ToBf16(f(0x3F808000)), "tie goes to even (down)");
        assertEquals((short) 0x3F82, f32ToBf16(f(0x3F818000)), "tie goes to even (up)");
        assertEquals((short) 0x3F81, f32ToBf16(f(0x3F808001)), "above the tie rounds up");
        assertEquals((short) 0x7F80, f32ToBf16(f(0x7F7FFFFF)), "overflow rounds to infinity");
    }

    @Test
    void bf16KeepsSpecialValues() {
        assertEquals((short) 0x7F80, f32ToBf16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0xFF80, f32ToBf16(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x8000, f32ToBf16(-0.0f));
        assertTrue(Float.isNaN(bf16ToF32(f32ToBf16(f(0x7F800001)))), "NaN with a low payload stays NaN");
        assertTrue(Float.isNaN(bf16ToF32(f32ToBf16(f(0xFFFFFFFF)))));
        assertEquals(f(0x00010000), bf16ToF32(f32ToBf16(f(0x00010000))), "subnormals survive");
    }

    @Test
    void everyBf16RoundTripsExactly() {
        for (int h = 0; h < 0x10000; h++) {
            float x = bf16ToF32((short) h);
            if (!Float.isNaN(x)) assertEquals((short) h, f32ToBf16(x));
        }
    }

    @Test
    void f16RoundTripsAndRounds() {
        for (int h = 0; h < 0x10000; h++) {
            float x = f16ToF32((short) h);
            if (!Float.isNaN(x)) assertEquals((short) h, f32ToF16(x));
        }
        assertEquals((short) 0x7C00, f32ToF16(70000f), "overflow to infinity");
        assertEquals((short) 0x3C00, f32ToF16(1.0f + 1.0f / 2048), "tie to even");
    }
}
