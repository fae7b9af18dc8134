package dev.amalgam.merge.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The sampled one-pass selection must give the radix select's threshold exactly, or null. */
class SampledSelectTest {
    private static MagnitudeSelect.Threshold radix(float[] x, long rank, int chunk) {
        MagnitudeSelect sel = new MagnitudeSelect();
        sel.begin(rank);
        for (int c = 0; c < x.length; c += chunk) sel.countHigh(java.util.Arrays.copyOfRange(x, c, Math.min(x.length, c + chunk)), Math.min(chunk, x.length - c));
        sel.endHigh();
        for (int c = 0; c < x.length; c += chunk) sel.countLow(java.util.Arrays.copyOfRange(x, c, Math.min(x.length, c + chunk)), Math.min(chunk, x.length - c));
        return sel.threshold(0);
    }

    private static MagnitudeSelect.Threshold sampled(float[] x, long rank, int chunk, MergeKernels k) {
        int n = x.length;
        SampledSelect s = new SampledSelect(rank, n);
        int[] keys = new int[SampledSelect.BLOCKS * SampledSelect.BLOCK];
        for (int b = 0; b < SampledSelect.BLOCKS; b++) {
            long at = SampledSelect.samplePositions(n, b);
            for (int e = 0; e < SampledSelect.BLOCK; e++) keys[b * SampledSelect.BLOCK + e] = MagnitudeSelect.key(x[(int) at + e]);
        }
        s.begin(keys);
        for (int c = 0; c < n; c += chunk) {
            float[] part = java.util.Arrays.copyOfRange(x, c, Math.min(n, c + chunk));
            s.count(part, part.length, k);
        }
        return s.threshold(k);
    }

    @Test
    void equalsRadixSelectOnRandomTiedAndNaNData() {
        Random r = new Random(23);
        MergeKernels[] impls = {new ScalarKernels(), Kernels.vectorOrNull()};
        int found = 0;
        for (int trial = 0; trial < 12; trial++) {
            int n = 70_000 + r.nextInt(200_000);
            float[] x = new float[n];
            int kind = trial % 4;
            for (int i = 0; i < n; i++) {
                x[i] = switch (kind) {
                    case 0 -> (float) r.nextGaussian() * 0.01f;                                  // distinct
                    case 1 -> (r.nextInt(9) - 4) * 0.25f;                                        // heavy ties
                    case 2 -> r.nextInt(10) == 0 ? Float.NaN : (r.nextInt(5) == 0 ? 0f : (float) r.nextGaussian());
                    default -> i < n / 2 ? 0f : (float) r.nextGaussian() * (i % 7);               // skewed halves, zeros
                };
            }
            long[] ranks = {0, n - 1, n / 2, r.nextInt(n), r.nextInt(n), n / 10};
            for (long rank : ranks) {
                MagnitudeSelect.Threshold want = radix(x, rank, 8192);
                for (MergeKernels k : impls) {
                    MagnitudeSelect.Threshold got = sampled(x, rank, 1 + r.nextInt(9000), k);
                    if (got == null) continue; // the caller falls back to the radix select
                    found++;
                    assertEquals(want, got, "trial " + trial + " kind " + kind + " rank " + rank + " " + k.name());
                }
            }
        }
        assertTrue(found > 100, "the sample brackets the rank in most cases: " + found);
    }

    @Test
    void bracketKernelsAgree() {
        Random r = new Random(29);
        MergeKernels s = new ScalarKernels(), v = Kernels.vectorOrNull();
        for (int n : new int[]{0, 1, 15, 16, 17, 100, 1000, 4099}) {
            float[] x = KernelEquivalenceTest.data(r, n);
            for (int i = 0; i < n; i += 4) x[i] = 0.5f;
            int lo = r.nextInt(3) == 0 ? MagnitudeSelect.key(0.5f) : MagnitudeSelect.key(0.01f), hi = MagnitudeSelect.key(r.nextBoolean() ? 0.5f : Float.POSITIVE_INFINITY);
            float[] so = new float[n + 200], vo = new float[n + 200];
            long[] ss = {3, 5, 7, 11}, vs = {3, 5, 7, 11};
            s.bracket(x, n, lo, hi, so, ss);
            v.bracket(x, n, lo, hi, vo, vs);
            assertArrayEquals(ss, vs, "n=" + n);
            for (int i = 0; i < ss[1]; i++) assertEquals(Float.floatToRawIntBits(so[i]), Float.floatToRawIntBits(vo[i]), "n=" + n + " at " + i);
        }
    }

    @org.junit.jupiter.api.Test
    void radixSortOfKeysEqualsArraysSort() {
        java.util.Random r = new java.util.Random(5);
        for (int n : new int[]{0, 1, 2, 100, 65536}) {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) a[i] = r.nextInt(4) == 0 ? r.nextInt(8) : r.nextInt() & 0x7fffffff;
            int[] want = a.clone();
            java.util.Arrays.sort(want);
            SampledSelect.radixSort(a);
            org.junit.jupiter.api.Assertions.assertArrayEquals(want, a);
        }
    }
}
