package dev.amalgam.merge.kernel;

import java.util.Arrays;

/**
 * Exact rank selection by magnitude in O(n): a two-pass radix select on the bits of |x|
 * (15 high bits, then 16 low bits inside the one bucket that holds the rank), streaming over
 * chunks so a tensor is never held whole. The order is magnitude descending, NaN above
 * infinity (as torch sorts), and among equal magnitudes the lower index ranks first — the
 * documented tie rule that keeps TIES and breadcrumbs reproducible.
 *
 * <p>Use: {@link #begin}, {@link #countHigh} over every chunk, {@link #endHigh},
 * {@link #countLow} over every chunk again, then {@link #threshold}.
 */
public final class MagnitudeSelect {
    // 2 MiB of counters, allocated by the first begin(): a selection that is prepared but then
    // answered by the sampled bracket (the common case) never allocates them
    private long[] high, high1, high2, high3;
    private long[][] low;
    private final long[] ranks = new long[2];
    private final int[] bucket = new int[2];
    private final long[] aboveBucket = new long[2];
    private int count;

    /** The key of the element at a rank and how many elements have a strictly larger key. */
    public record Threshold(int key, long above) {
    }

    /**
     * Magnitude key: the float bits without the sign, ordered like |x|; every NaN maps to one
     * key above infinity (NaN payloads are not reproducible, so they must not order anything).
     */
    public static int key(float x) {
        int k = Float.floatToRawIntBits(x) & 0x7fffffff;
        return k > 0x7f800000 ? NAN_KEY : k;
    }

    /** The key of every NaN. */
    public static final int NAN_KEY = 0x7fc00000;

    /** Starts a selection of up to two ranks (0 = largest magnitude), each below the element count. */
    public void begin(long... wanted) {
        if (wanted.length > 2) throw new IllegalArgumentException("at most two ranks");
        count = wanted.length;
        System.arraycopy(wanted, 0, ranks, 0, count);
        if (high == null) {
            high = new long[1 << 15];
            high1 = new long[1 << 15];
            high2 = new long[1 << 15];
            high3 = new long[1 << 15];
            low = new long[][]{new long[1 << 16], new long[1 << 16]};
            return;
        }
        Arrays.fill(high, 0);
        Arrays.fill(high1, 0);
        Arrays.fill(high2, 0);
        Arrays.fill(high3, 0);
        for (long[] l : low) Arrays.fill(l, 0);
    }

    public void countHigh(float[] x, int n) {
        // four interleaved histograms: task vectors pile into few buckets, and increments of one
        // counter in a row would wait on each other's stores
        long[] h0 = high, h1 = high1, h2 = high2, h3 = high3;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            h0[key(x[i]) >>> 16]++;
            h1[key(x[i + 1]) >>> 16]++;
            h2[key(x[i + 2]) >>> 16]++;
            h3[key(x[i + 3]) >>> 16]++;
        }
        for (; i < n; i++) h0[key(x[i]) >>> 16]++;
    }

    public void endHigh() {
        for (int b = 0; b < high.length; b++) high[b] += high1[b] + high2[b] + high3[b];
        for (int r = 0; r < count; r++) {
            long cum = 0;
            int b = high.length - 1;
            while (cum + high[b] <= ranks[r]) cum += high[b--];
            bucket[r] = b;
            aboveBucket[r] = cum;
        }
    }

    /** Second pass, the one-rank case on the kernels (a vector prefilter skips other buckets). */
    public void countLow(float[] x, int n, MergeKernels kernels) {
        if (count == 1) kernels.countInBucket(x, n, bucket[0], low[0]);
        else countLow(x, n);
    }

    public void countLow(float[] x, int n) {
        for (int i = 0; i < n; i++) {
            int k = key(x[i]);
            int hb = k >>> 16;
            for (int r = 0; r < count; r++) {
                if (hb == bucket[r]) low[r][k & 0xffff]++;
            }
        }
    }

    public Threshold threshold(int r) {
        long cum = aboveBucket[r];
        long[] l = low[r];
        int b = l.length - 1;
        while (cum + l[b] <= ranks[r]) cum += l[b--];
        return new Threshold(bucket[r] << 16 | b, cum);
    }
}
