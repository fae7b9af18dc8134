package dev.amalgam.merge.method;

/**
 * One task vector's sparsification as its parameters ask for it: a {@link Sparsifier} known at
 * once, or a magnitude band whose thresholds the selection passes find first.
 */
record Sparsity(Sparsifier fixed, MagnitudeSelection selection) {
    static Sparsity of(Sparsifier fixed) {
        return new Sparsity(fixed, null);
    }

    static Sparsity select(MagnitudeSelection selection) {
        return new Sparsity(null, selection);
    }

    /** A sparsifier for one pass over the task vector, in index order from its start. */
    Sparsifier fresh(long n) {
        return selection != null ? selection.band(n) : fixed;
    }
}
