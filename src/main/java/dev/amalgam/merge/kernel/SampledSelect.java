package dev.amalgam.merge.kernel;

import java.util.Arrays;

/**
 * Exact selection of one magnitude rank in one pass over the data, the same {@link
 * MagnitudeSelect.Threshold} as the two-pass radix select: a sample of keys (fixed positions,
 * no randomness) brackets the rank's key in [loKey, hiKey]; one vector pass counts the keys
 * above the bracket and equal to either end (BF16 task vectors pile up on few keys) and collects
 * those strictly inside; a radix select over the few collected keys finds the key and the count
 * above it. When the sample misled (the rank's key lies outside the
 * bracket) or the bracket holds too many elements, {@link #threshold} returns null and the
 * caller runs the radix passes: the result never depends on the sample, only the time does.
 *
 * <p>Use: {@link #samplePositions}, {@link #begin} with the sampled keys, {@link #count} over
 * every chunk in index order, then {@link #threshold}.
 */
public final class SampledSelect {
    /** Sampled blocks and their length: 1024 × 64 = 65,536 sampled keys. */
    public static final int BLOCKS = 1024, BLOCK = 64;
    /** Below this many elements the radix select is used directly. */
    public static final long MIN_ELEMENTS = 1L << 20;
    /** Margin around the rank's sample position, in samples (6 standard deviations of the position). */
    private static final int MARGIN = 6 * 256;

    private final long rank;
    private final long n;
    private final long limit;
    private int loKey;
    private int hiKey;
    private float[] inside = new float[0];
    private final long[] state = new long[4];
    private boolean overflow;

    /** The selection over the collected keys, reused by each thread (its counters are 2 MiB). */
    private static final ThreadLocal<MagnitudeSelect> INNER = ThreadLocal.withInitial(MagnitudeSelect::new);

    /** Selects rank {@code rank} (0 = largest magnitude) of {@code n} elements. */
    public SampledSelect(long rank, long n) {
        this.rank = rank;
        this.n = n;
        this.limit = Math.max(1L << 20, n / 8);
    }

    /** Whether sampling pays off for n elements. */
    public static boolean worthIt(long n) {
        return n >= MIN_ELEMENTS;
    }

    /** First element of sampled block b (blocks spread evenly, each {@link #BLOCK} long). */
    public static long samplePositions(long n, int b) {
        return (n - BLOCK) / (BLOCKS - 1) * b;
    }

    /** Sets the bracket from the sampled keys (non-negative, as {@link MagnitudeSelect#key}; any order; sorted in place). */
    public void begin(int[] sampled) {
        radixSort(sampled);
        int s = sampled.length;
        // descending position of the rank in the sample
        long pos = rank * s / n;
        long hiPos = pos - MARGIN, loPos = pos + MARGIN;
        hiKey = hiPos < 0 ? Integer.MAX_VALUE : sampled[(int) (s - 1 - hiPos)];
        loKey = loPos >= s ? 0 : sampled[(int) (s - 1 - loPos)];
        java.util.Arrays.fill(state, 0);
        overflow = false;
        inside = BUFFERS.get().pollFirst();
        if (inside == null) inside = new float[(int) Math.min(limit, 1 << 16) + TensorLanes.PAD];
    }

    /**
     * Collection buffers a thread reuses from tensor to tensor: the keys inside the bracket run
     * to megabytes on large tensors, and fresh ones per tensor filled the old generation.
     */
    private static final ThreadLocal<java.util.ArrayDeque<float[]>> BUFFERS =
            ThreadLocal.withInitial(java.util.ArrayDeque::new);

    /** Largest collection buffer kept for reuse: 16 MiB. */
    private static final int POOLED_MAX = 1 << 22;

    /** Gives the collection buffer back to this thread's pool (after {@link #threshold}). */
    private void release() {
        // a very large tensor's buffer is left to the collector rather than kept for the next
        if (inside.length > 0 && inside.length <= POOLED_MAX) BUFFERS.get().addFirst(inside);
        inside = new float[0];
    }

    /**
     * Sorts non-negative keys ascending in two counting passes of 16 bits: a 65,536-key sample
     * in about a tenth of {@code Arrays.sort}'s time (which cost milliseconds per tensor).
     */
    static void radixSort(int[] a) {
        int[] tmp = new int[a.length];
        int[] count = new int[1 << 16];
        for (int shift = 0; shift < 32; shift += 16) {
            Arrays.fill(count, 0);
            for (int v : a) count[(v >>> shift) & 0xffff]++;
            for (int b = 0, sum = 0; b < count.length; b++) {
                int c = count[b];
                count[b] = sum;
                sum += c;
            }
            for (int v : a) tmp[count[(v >>> shift) & 0xffff]++] = v;
            System.arraycopy(tmp, 0, a, 0, a.length);
        }
    }

    /** Counts the next chunk (chunks in any order, all of them exactly once). */
    public void count(float[] x, int len, MergeKernels kernels) {
        if (overflow || !room(len)) return;
        kernels.bracket(x, len, loKey, hiKey, inside, state);
    }

    /**
     * As {@link #count} for the task vector x − base of BF16 elements [from, from + len), read
     * straight from the segments ({@link MergeKernels#bracketDeltaBf16}).
     */
    public void countDelta(java.lang.foreign.MemorySegment x, java.lang.foreign.MemorySegment base, long from, int len,
                           MergeKernels kernels) {
        if (overflow || !room(len)) return;
        kernels.bracketDeltaBf16(x, base, from, len, loKey, hiKey, inside, state);
    }

    /** Grows the collection buffer for len more keys; false (and overflow) past the limit. */
    private boolean room(int len) {
        long need = state[1] + len + TensorLanes.PAD;
        if (need > inside.length) {
            if (state[1] + len > limit) {
                overflow = true;
                return false;
            }
            inside = Arrays.copyOf(inside, (int) Math.min(limit + TensorLanes.PAD, Math.max(need, 2L * inside.length)));
        }
        return true;
    }

    /** The exact threshold of the rank, or null when the bracket missed (run the radix select). */
    public MagnitudeSelect.Threshold threshold(MergeKernels kernels) {
        try {
            return exactThreshold(kernels);
        } finally {
            release();
        }
    }

    private MagnitudeSelect.Threshold exactThreshold(MergeKernels kernels) {
        if (overflow) return null;
        long above = state[0], in = state[1], eqHi = state[2], eqLo = state[3];
        if (rank < above) return null;
        if (rank < above + eqHi) return new MagnitudeSelect.Threshold(hiKey, above);
        long inside0 = above + eqHi;
        if (rank < inside0 + in) {
            MagnitudeSelect inner = INNER.get();
            inner.begin(rank - inside0);
            int m = (int) in;
            inner.countHigh(this.inside, m);
            inner.endHigh();
            inner.countLow(this.inside, m, kernels);
            MagnitudeSelect.Threshold t = inner.threshold(0);
            return new MagnitudeSelect.Threshold(t.key(), inside0 + t.above());
        }
        if (rank < inside0 + in + eqLo) return new MagnitudeSelect.Threshold(loKey, inside0 + in);
        return null;
    }

    /** Spare room the vector kernel may write past the collected keys. */
    private static final class TensorLanes {
        static final int PAD = 2 * MergeKernels.LANES + 64;
    }
}
