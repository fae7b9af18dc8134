package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.MagnitudeSelect;
import dev.amalgam.merge.kernel.RankBand;

/**
 * A band [from, to) of one task vector's magnitude ranks (ties: top-k; breadcrumbs: without the
 * largest outliers), and the selection that finds its one or two threshold ranks.
 */
final class MagnitudeSelection {
    final long from;
    final long to;
    /** The ranks to find: {@code to - 1} when the band ends early, {@code from - 1} when it starts late. */
    final long[] ranks;
    final MagnitudeSelect select = new MagnitudeSelect();
    /** The one rank's threshold found by {@link dev.amalgam.merge.kernel.SampledSelect}, or null (radix select). */
    MagnitudeSelect.Threshold sampled;

    MagnitudeSelection(long from, long to, long n) {
        this.from = from;
        this.to = to;
        if (to < n && to > from) {
            ranks = from > 0 ? new long[]{to - 1, from - 1} : new long[]{to - 1};
        } else {
            ranks = from > 0 ? new long[]{from - 1} : new long[0];
        }
    }

    /** Whether the radix passes still have to find the thresholds. */
    boolean needsRadix() {
        return sampled == null;
    }

    /** A fresh band over the thresholds found (a sampled threshold stands for the one rank there is). */
    Sparsifier.MagnitudeBand band(long n) {
        MagnitudeSelect.Threshold upper = null, lower = null;
        int r = 0;
        if (to < n && to > from) upper = sampled != null ? sampled : select.threshold(r++);
        if (from > 0) lower = sampled != null ? sampled : select.threshold(r);
        return new Sparsifier.MagnitudeBand(new RankBand(from, to, n, upper, lower));
    }
}
