package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.CounterRandom;
import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.merge.kernel.RankBand;

/**
 * How one task vector is sparsified: {@link #apply} over δ = x − base, chunk by chunk in index
 * order. A magnitude band keeps a quota of ties at its threshold as it goes, so every pass takes a
 * fresh one ({@link Sparsity#fresh}).
 */
sealed interface Sparsifier {
    /** The task vector kept whole: no sparsification, or a density of 1 or more. */
    Sparsifier KEEP_ALL = new KeepAll();

    /** Sparsifies {@code delta[0, len)}, elements {@code [at, at + len)} of the task vector. */
    void apply(float[] delta, long at, int len, MergeKernels k);

    /** Keeps every element. */
    record KeepAll() implements Sparsifier {
        @Override
        public void apply(float[] delta, long at, int len, MergeKernels k) {
        }
    }

    /** Keeps nothing (della at density 0: mergekit's zero task vector, not rescaled). */
    record DropAll() implements Sparsifier {
        @Override
        public void apply(float[] delta, long at, int len, MergeKernels k) {
            k.scale(delta, 0f, len);
        }
    }

    /** DARE: each element dropped unless its counter-based draw is below {@code density}. */
    record RandomDrop(CounterRandom random, float density) implements Sparsifier {
        @Override
        public void apply(float[] delta, long at, int len, MergeKernels k) {
            random.dropout(delta, at, len, density, k);
        }
    }

    /** DELLA: dropped with probabilities by magnitude rank within each row. */
    record DellaDrop(DellaPrune della) implements Sparsifier {
        @Override
        public void apply(float[] delta, long at, int len, MergeKernels k) {
            della.apply(delta, at, len);
        }
    }

    /** TIES and breadcrumbs: the magnitude ranks of a band kept (exact, lowest index first on ties). */
    record MagnitudeBand(RankBand band) implements Sparsifier {
        @Override
        public void apply(float[] delta, long at, int len, MergeKernels k) {
            band.apply(delta, len, k);
        }

        /** Kept by the BF16 TIES kernels' threshold alone: a plain top-k, or everything. */
        boolean fusable() {
            return band.topOnly() || band.keepsAll();
        }

        /** The threshold key for the fused kernels, -1 where the band keeps everything. */
        int thresholdKey() {
            return band.topOnly() ? band.thresholdKey() : -1;
        }

        /** The quota of elements equal to the threshold key (0 where the band keeps everything). */
        long tiesLeft() {
            return band.topOnly() ? band.tiesLeft() : 0;
        }
    }
}
