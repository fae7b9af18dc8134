package dev.amalgam.merge.kernel;

/**
 * Keeps the elements whose magnitude rank lies in {@code [from, to)} (rank 0 = largest, ties by
 * lower index first) and multiplies the rest by zero, chunk by chunk in index order. The
 * thresholds come from {@link MagnitudeSelect}; the running counts of elements equal to a
 * threshold implement the tie rule, so chunks must be applied in order.
 */
public final class RankBand {
    private final boolean all;
    private final boolean none;
    private final int upperKey;
    private final long upperQuota;
    private final int lowerKey;
    private final long lowerSkip;
    private final boolean hasLower;
    private long upperSeen;
    private long lowerSeen;

    /**
     * @param upper threshold at rank {@code to - 1}, or null when {@code to} covers everything
     * @param lower threshold at rank {@code from - 1}, or null when {@code from == 0}
     */
    public RankBand(long from, long to, long n, MagnitudeSelect.Threshold upper, MagnitudeSelect.Threshold lower) {
        this.none = to <= from || to <= 0;
        this.all = !none && from <= 0 && to >= n;
        this.upperKey = upper == null ? Integer.MAX_VALUE : upper.key();
        this.upperQuota = upper == null ? Long.MAX_VALUE : to - upper.above();
        this.hasLower = lower != null && from > 0;
        this.lowerKey = lower == null ? 0 : lower.key();
        this.lowerSkip = lower == null ? 0 : from - lower.above();
    }

    /** A plain top-k (ties at the threshold by quota, lowest index first): what {@link MergeKernels#maskedDeltaBf16} applies. */
    public boolean topOnly() {
        return !all && !none && !hasLower && upperQuota != Long.MAX_VALUE;
    }

    public boolean keepsAll() {
        return all;
    }

    /** The top-k threshold key (see {@link #topOnly}). */
    public int thresholdKey() {
        return upperKey;
    }

    /** Elements equal to the threshold still kept from here on. */
    public long tiesLeft() {
        return Math.max(0, upperQuota - upperSeen);
    }

    /** Applies the band to the next chunk; the top-k-only case runs on the kernels. */
    public void apply(float[] x, int n, MergeKernels kernels) {
        if (all) return;
        if (!none && !hasLower && upperQuota != Long.MAX_VALUE) {
            long left = kernels.keepTop(x, n, upperKey, Math.max(0, upperQuota - upperSeen));
            upperSeen = upperQuota - left;
            return;
        }
        apply(x, n);
    }

    public void apply(float[] x, int n) {
        if (all) return;
        for (int i = 0; i < n; i++) {
            if (none || !keep(MagnitudeSelect.key(x[i]))) x[i] = x[i] * 0f;
        }
    }

    private boolean keep(int k) {
        // both counters advance for every element at their key, whatever the other test says
        boolean withinTop;
        if (upperQuota == Long.MAX_VALUE || k > upperKey) withinTop = true;
        else if (k < upperKey) withinTop = false;
        else withinTop = upperSeen++ < upperQuota;
        boolean belowSkipped;
        if (!hasLower || k < lowerKey) belowSkipped = true;
        else if (k > lowerKey) belowSkipped = false;
        else belowSkipped = lowerSeen++ >= lowerSkip;
        return withinTop && belowSkipped;
    }
}
