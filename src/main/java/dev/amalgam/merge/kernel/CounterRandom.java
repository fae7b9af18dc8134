package dev.amalgam.merge.kernel;

import java.nio.charset.StandardCharsets;

/**
 * Counter-based randomness for DARE: the draw for element i depends only on the recipe seed,
 * the tensor name, the input's position and i, never on chunking, threads or call order.
 * A SplitMix64 finaliser over (stream key + i * golden ratio) gives 24 uniform bits.
 */
public final class CounterRandom {
    private final long key;

    public CounterRandom(long seed, String tensorName, int input) {
        long h = 0xcbf29ce484222325L; // FNV-1a 64 over the UTF-8 name: stable across JVMs
        for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        this.key = mix(mix(seed) ^ h ^ mix(input + 0x5851f42d4c957f2dL));
    }

    /** This stream's key: with an element index it determines the element's draw. */
    public long key() {
        return key;
    }

    /** Uniform in [0, 1) with 24-bit resolution for element {@code index}. */
    public float uniform(long index) {
        return uniform(key, index);
    }

    /** Uniform in [0, 1) of element {@code index} of the stream {@code key}. */
    static float uniform(long key, long index) {
        return draw(key, index) * 0x1.0p-24f;
    }

    /** The 24 random bits of element {@code index} of the stream {@code key}. */
    static long draw(long key, long index) {
        return mix(key + index * GOLDEN) >>> 40;
    }

    static final long GOLDEN = 0x9e3779b97f4a7c15L, MIX1 = 0xbf58476d1ce4e5b9L, MIX2 = 0x94d049bb133111ebL;

    /**
     * The draws an element keeps under {@code density}: {@code uniform >= density} drops it, and
     * as uniform is draw · 2⁻²⁴ exactly, that is {@code draw >= ceil(density · 2²⁴)}; a NaN
     * density drops nothing (no comparison with NaN is true).
     */
    static long dropFrom(float density) {
        double t = Math.ceil((double) density * 0x1p24);
        return Double.isNaN(t) ? Long.MAX_VALUE : (long) t;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * MIX1;
        z = (z ^ (z >>> 27)) * MIX2;
        return z ^ (z >>> 31);
    }

    /**
     * Bernoulli mask for DARE: elements not kept (draw >= density) are multiplied by zero; on the
     * kernels ({@link MergeKernels#dropout}), vectorised there.
     */
    public void dropout(float[] x, long fromElem, int n, float density, MergeKernels kernels) {
        kernels.dropout(x, n, fromElem, key, density);
    }
}
