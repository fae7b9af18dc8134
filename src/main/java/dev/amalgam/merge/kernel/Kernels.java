package dev.amalgam.merge.kernel;

/**
 * Chooses the kernel implementation once per JVM: the Vector API one when the
 * {@code jdk.incubator.vector} module is present, else the scalar twin. The system property
 * {@code amalgam.kernels=scalar} forces the scalar one (for comparisons and benchmarks).
 */
public final class Kernels {
    private static final MergeKernels INSTANCE = choose();

    private Kernels() {
    }

    public static MergeKernels get() {
        return INSTANCE;
    }

    public static MergeKernels scalar() {
        return new ScalarKernels();
    }

    /** The vector implementation, or null when the module is absent. */
    public static MergeKernels vectorOrNull() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return null;
        try {
            return new VectorKernels();
        } catch (LinkageError e) {
            return null;
        }
    }

    private static MergeKernels choose() {
        if ("scalar".equals(System.getProperty("amalgam.kernels"))) return scalar();
        MergeKernels v = vectorOrNull();
        return v != null ? v : scalar();
    }
}
