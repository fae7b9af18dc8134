package dev.amalgam.model.kernel;

import dev.amalgam.merge.kernel.Kernels;

/**
 * Chooses the matrix-vector kernels once per JVM, on the same preconditions as the merge kernels
 * ({@link Kernels}: module, C2, vector width, and {@code -Damalgam.kernels=scalar}); the reason is
 * kept for {@code amalgam eval} and the benchmark to print.
 */
public final class MatVecs {
    private static final MatVec CHOSEN = choose();

    private MatVecs() {
    }

    public static MatVec get() {
        return CHOSEN;
    }

    public static MatVec scalar() {
        return new ScalarMatVec();
    }

    /** The vector implementation, or null when the merge kernels fell back to scalar (see {@link Kernels#choice()}). */
    public static MatVec vectorOrNull() {
        if (Kernels.vectorOrNull() == null) return null;
        return VectorMatVec.preferredBits() >= 128 ? new VectorMatVec() : null;
    }

    /** Why this kernel was chosen, as {@link Kernels.Choice#describe()}. */
    public static String describe() {
        return CHOSEN.name() + " (" + Kernels.choice().describe() + ")";
    }

    private static MatVec choose() {
        if ("scalar".equals(System.getProperty("amalgam.kernels"))) return scalar();
        MatVec v = vectorOrNull();
        return v == null ? scalar() : v;
    }
}
