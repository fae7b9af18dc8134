package dev.amalgam.model;

/**
 * The MLP activations of Hugging Face's {@code ACT2FN} that the forward pass implements, by their
 * {@code hidden_act} names; computed in double and rounded once to F32.
 */
public enum Activation {
    /** {@code silu}, {@code swish}: x·σ(x). */
    SILU,
    /** {@code gelu}: the exact x·Φ(x) = x/2·(1 + erf(x/√2)). */
    GELU,
    /** {@code gelu_new}, {@code gelu_pytorch_tanh}, {@code gelu_fast}: x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    GELU_TANH,
    /** {@code quick_gelu}: x·σ(1.702·x). */
    QUICK_GELU,
    /** {@code relu}: max(0, x). */
    RELU;

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    /** The activation named by a config's {@code hidden_act}; an unknown name is an error listing the known ones. */
    public static Activation named(String name) {
        return switch (name) {
            case "silu", "swish" -> SILU;
            case "gelu" -> GELU;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_TANH;
            case "quick_gelu" -> QUICK_GELU;
            case "relu" -> RELU;
            default -> throw new IllegalArgumentException("hidden_act " + name + " is not implemented (known: silu, swish,"
                    + " gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, quick_gelu, relu)");
        };
    }

    /** The activation of one value. */
    public float apply(float x) {
        double v = x;
        return (float) switch (this) {
            case SILU -> v / (1.0 + StrictMath.exp(-v));
            case GELU -> 0.5 * v * (1.0 + erf(v / Math.sqrt(2.0)));
            case GELU_TANH -> 0.5 * v * (1.0 + StrictMath.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
            case QUICK_GELU -> v / (1.0 + StrictMath.exp(-1.702 * v));
            case RELU -> Math.max(0.0, v);
        };
    }

    /**
     * The error function to about 1e-15: its Maclaurin series below |z| = 2.5, a continued fraction
     * of erfc above (Java has no erf of its own).
     */
    static double erf(double z) {
        if (Double.isNaN(z)) return z;
        double a = Math.abs(z);
        if (a < 2.5) {
            double term = z, sum = z, z2 = z * z;
            for (int n = 1; n < 80; n++) {
                term = -term * z2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            return 2.0 / Math.sqrt(Math.PI) * sum;
        }
        if (a > 6.0) return Math.signum(z);
        // erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...))))), evaluated from the tail
        double f = a;
        for (int k = 60; k >= 1; k--) f = a + (k / 2.0) / f;
        double erfc = StrictMath.exp(-a * a) / Math.sqrt(Math.PI) / f;
        return Math.signum(z) * (1.0 - erfc);
    }
}
