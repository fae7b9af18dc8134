package dev.amalgam.merge.kernel;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;

/**
 * Chooses the kernel implementation once per JVM and says why: the Vector API one when its
 * preconditions hold (the {@code jdk.incubator.vector} module in the boot layer, C2 compiling, a
 * preferred vector of at least 128 bits), else the scalar twin, with a warning that names the
 * missing precondition and how to fix it. The system property {@code amalgam.kernels=scalar}
 * forces the scalar one (for comparisons and benchmarks). Both give the same bytes; the vector one
 * is several times faster.
 */
public final class Kernels {
    private static final System.Logger LOG = System.getLogger(Kernels.class.getName());
    /** Narrower vectors have too few lanes to gain anything (and no short species half as wide). */
    static final int MIN_VECTOR_BITS = 128;
    private static final Choice CHOICE = choose();

    /**
     * The chosen kernels and the reason. {@code fix} is null when nothing needs fixing (the vector
     * kernels, or the scalar ones asked for).
     */
    public record Choice(MergeKernels kernels, String reason, String fix) {
        /** One line for logs and {@code amalgam bench}. */
        public String describe() {
            return kernels.name() + " (" + reason + (fix == null ? "" : "; to fix: " + fix) + ")";
        }
    }

    private Kernels() {
    }

    public static MergeKernels get() {
        return CHOICE.kernels();
    }

    /** The choice made at start-up, with its reason. */
    public static Choice choice() {
        return CHOICE;
    }

    public static MergeKernels scalar() {
        return new ScalarKernels();
    }

    /** The vector implementation, or null when it cannot run here (see {@link #choose()}). */
    public static MergeKernels vectorOrNull() {
        Choice c = vectorChoice();
        return c.fix() == null ? c.kernels() : null;
    }

    private static Choice choose() {
        Choice c = "scalar".equals(System.getProperty("amalgam.kernels"))
                ? new Choice(scalar(), "scalar kernels forced by -Damalgam.kernels=scalar", null)
                : vectorChoice();
        if (c.fix() == null) {
            LOG.log(System.Logger.Level.DEBUG, "merge kernels: {0}", c.describe());
        } else {
            LOG.log(System.Logger.Level.WARNING, "merge kernels: {0}; outputs are the same bytes, merges several times slower",
                    c.describe());
        }
        return c;
    }

    /** The vector kernels if their preconditions hold, else the scalar ones with reason and fix. */
    private static Choice vectorChoice() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return fallback("module jdk.incubator.vector is not in the boot layer",
                    "start java with --add-modules=jdk.incubator.vector (the amalgam launcher does)");
        }
        String c2 = c2Missing();
        if (c2 != null) {
            return fallback(c2 + ": the Vector API runs interpreted without C2",
                    "remove -XX:TieredStopAtLevel or -Xint, or use a HotSpot JVM with the server compiler");
        }
        int bits;
        MergeKernels v;
        try {
            bits = VectorKernels.preferredBits();
            v = bits >= MIN_VECTOR_BITS ? new VectorKernels() : null;
        } catch (LinkageError e) {
            return fallback("the vector kernels failed to load: " + e, "run on JDK 25 with --add-modules=jdk.incubator.vector");
        }
        if (v == null) {
            return fallback("preferred vector is " + bits + " bits, below " + MIN_VECTOR_BITS,
                    "remove -XX:MaxVectorSize or set it to 16 or more, or run on a CPU with SSE2/NEON or wider");
        }
        return new Choice(v, "Vector API, " + bits + "-bit vectors", null);
    }

    private static Choice fallback(String reason, String fix) {
        return new Choice(scalar(), reason, fix);
    }

    /** Why C2 does not compile here, or null when it does (or when the JVM cannot tell). */
    private static String c2Missing() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (vm == null) return null;
            if ("false".equals(vm.getVMOption("UseCompiler").getValue())) return "the JIT is off (-Xint)";
            String level = vm.getVMOption("TieredStopAtLevel").getValue();
            if ("true".equals(vm.getVMOption("TieredCompilation").getValue()) && Integer.parseInt(level) < 4) {
                return "tiered compilation stops at level " + level;
            }
            return null;
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
