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

    /** Uniform in [0, 1) with 24-bit resolution for element {@code index}. */
    public float uniform(long index) {
        return (mix(key + index * 0x9e3779b97f4a7c15L) >>> 40) * 0x1.0p-24f;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Bernoulli mask for DARE: elements not kept (draw >= density) are multiplied by zero. */
    public void dropout(float[] x, long fromElem, int n, float density) {
        for (int i = 0; i < n; i++) {
            if (uniform(fromElem + i) >= density) x[i] = x[i] * 0f;
        }
    }
}
