package dev.amalgam.merge.kernel;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class CounterRandomTest {
    @Test
    void drawsDependOnlyOnSeedNameInputAndIndex() {
        CounterRandom a = new CounterRandom(42, "model.layers.0.mlp.up_proj.weight", 1);
        CounterRandom b = new CounterRandom(42, "model.layers.0.mlp.up_proj.weight", 1);
        assertEquals(a.uniform(123_456_789L), b.uniform(123_456_789L));
        assertNotEquals(a.uniform(5), new CounterRandom(43, "model.layers.0.mlp.up_proj.weight", 1).uniform(5));
        assertNotEquals(a.uniform(5), new CounterRandom(42, "model.layers.1.mlp.up_proj.weight", 1).uniform(5));
        assertNotEquals(a.uniform(5), new CounterRandom(42, "model.layers.0.mlp.up_proj.weight", 2).uniform(5));
    }

    @Test
    void dropoutIsChunkIndependentAndKeepsAboutDensity() {
        CounterRandom r = new CounterRandom(1, "t", 0);
        int n = 100_000;
        float[] whole = new float[n];
        java.util.Arrays.fill(whole, 1f);
        float[] chunked = whole.clone();
        r.dropout(whole, 0, n, 0.3f, Kernels.get());
        for (int c = 0; c < n; c += 777) {
            int len = Math.min(777, n - c);
            float[] part = java.util.Arrays.copyOfRange(chunked, c, c + len);
            r.dropout(part, c, len, 0.3f, Kernels.get());
            System.arraycopy(part, 0, chunked, c, len);
        }
        assertArrayEquals(whole, chunked);
        double kept = 0;
        for (float f : whole) kept += f;
        assertEquals(0.3, kept / n, 0.01);
    }
}
