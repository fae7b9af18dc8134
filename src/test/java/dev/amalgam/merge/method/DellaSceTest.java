package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.CounterRandom;
import dev.amalgam.merge.recipe.RecipeException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import static dev.amalgam.merge.method.MethodsTest.NAME;
import static dev.amalgam.merge.method.MethodsTest.close;
import static dev.amalgam.merge.method.MethodsTest.random;
import static dev.amalgam.merge.method.MethodsTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** della, della_linear and sce against references written here in double precision. */
class DellaSceTest {
    static Map<String, Object> wde(double weight, double density, double epsilon) {
        return Map.of("weight", weight, "density", density, "epsilon", epsilon);
    }

    /**
     * DELLA's keep mask: magnitude rank within each group along dimension 1 (rows of a matrix;
     * the whole tensor when 1-D), equal magnitudes ranked by index with the lower index higher,
     * kept when the counter draw is below (density − ε) + 2ε·rank/(L − 1).
     */
    static boolean[] dellaMask(float[] delta, long[] shape, double density, double eps, long seed, int ordinal) {
        int n = delta.length;
        int d0 = shape.length < 2 ? 1 : (int) shape[0];
        int len = shape.length < 2 ? n : (int) shape[1];
        int inner = n / d0 / len;
        CounterRandom rnd = new CounterRandom(seed, NAME, ordinal);
        boolean[] keep = new boolean[n];
        for (int i0 = 0; i0 < d0; i0++) {
            for (int r = 0; r < inner; r++) {
                final int start = i0 * len * inner + r;
                Integer[] js = IntStream.range(0, len).boxed().toArray(Integer[]::new);
                Arrays.sort(js, Comparator.<Integer>comparingDouble(j -> Math.abs(delta[start + j * inner]))
                        .thenComparing(Comparator.<Integer>reverseOrder()));
                for (int rank = 0; rank < len; rank++) {
                    int e = start + js[rank] * inner;
                    double p = density - eps + 2 * eps * rank / (len - 1);
                    keep[e] = rnd.uniform(e) < p;
                }
            }
        }
        return keep;
    }

    /** della / della_linear for deltas with given masks: L1 rescale, weights, TIES or sum, λ. */
    static double[] taskVectors(float[] base, List<float[]> xs, List<boolean[]> masks, double[] weights,
                                boolean ties, boolean normalize, double lambda) {
        int n = base.length, m = xs.size();
        double[][] wd = new double[m][n];
        for (int j = 0; j < m; j++) {
            double before = 0, after = 0;
            float[] x = xs.get(j);
            for (int i = 0; i < n; i++) {
                float dlt = x[i] - base[i];
                before += Math.abs(dlt);
                if (masks.get(j)[i]) after += Math.abs(dlt);
            }
            double scale = before >= 1e-7 && after >= 1e-7 ? before / after : 1;
            for (int i = 0; i < n; i++) wd[j][i] = masks.get(j)[i] ? (x[i] - base[i]) * scale * weights[j] : 0;
        }
        double[] out = new double[n];
        double wsum = Arrays.stream(weights).sum();
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < m; j++) sum += wd[j][i];
            double mix = 0, div = 0;
            for (int j = 0; j < m; j++) {
                if (!ties || (sum >= 0 ? wd[j][i] > 0 : wd[j][i] < 0)) {
                    mix += wd[j][i];
                    div += weights[j];
                }
            }
            if (!ties) div = wsum;
            if (div == 0) div = 1;
            out[i] = base[i] + lambda * (normalize ? mix / div : mix);
        }
        return out;
    }

    static float[] delta(float[] x, float[] base) {
        float[] d = new float[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i] - base[i];
        return d;
    }

    @Test
    void dellaMatchesTheReference() {
        Random r = new Random(41);
        int rows = 5, cols = 3000; // a row crosses chunk boundaries
        int n = rows * cols;
        long[] shape = {rows, cols};
        float[] base = random(r, n), a = random(r, n), b = random(r, n);
        float[] got = run("della", Map.of(), true, List.of(base, a, b),
                List.of(Map.of(), wde(0.7, 0.5, 0.2), wde(0.5, 0.3, 0.1)), shape, 7L);
        var masks = List.of(dellaMask(delta(a, base), shape, 0.5, 0.2, 7L, 0), dellaMask(delta(b, base), shape, 0.3, 0.1, 7L, 1));
        close(taskVectors(base, List.of(a, b), masks, new double[]{0.7, 0.5}, true, true, 1), got);
        float[] linear = run("della_linear", Map.of("lambda", 0.8), true, List.of(base, a, b),
                List.of(Map.of(), wde(0.7, 0.5, 0.2), wde(0.5, 0.3, 0.1)), shape, 7L);
        close(taskVectors(base, List.of(a, b), masks, new double[]{0.7, 0.5}, false, false, 0.8), linear);
    }

    @Test
    void dellaRanksAlongDimensionOneAndWholeVectors() {
        Random r = new Random(42);
        long[] cube = {3, 40, 7}; // groups run along dimension 1, strided
        int n = 3 * 40 * 7;
        float[] base = random(r, n), a = random(r, n);
        float[] got = run("della_linear", Map.of("rescale", false), true, List.of(base, a),
                List.of(Map.of(), wde(1.0, 0.4, 0.3)), cube, 3L);
        var mask = dellaMask(delta(a, base), cube, 0.4, 0.3, 3L, 0);
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = base[i] + (mask[i] ? a[i] - base[i] : 0);
        close(want, got);
        long[] flat = {n};
        float[] got1 = run("della_linear", Map.of(), true, List.of(base, a), List.of(Map.of(), wde(1.0, 0.4, 0.3)), flat, 3L);
        close(taskVectors(base, List.of(a), List.of(dellaMask(delta(a, base), flat, 0.4, 0.3, 3L, 0)),
                new double[]{1}, false, false, 1), got1);
    }

    @Test
    void dellaKeepsLargerMagnitudesMoreOftenAtTheTargetDensity() {
        Random r = new Random(43);
        int rows = 64, cols = 1024, n = rows * cols;
        float[] base = new float[n], a = random(r, n);
        float[] got = run("della_linear", Map.of("rescale", false), true, List.of(base, a),
                List.of(Map.of(), wde(1.0, 0.5, 0.3)), new long[]{rows, cols}, 1L);
        int kept = 0, keptTop = 0, keptBottom = 0, top = 0, bottom = 0;
        for (int row = 0; row < rows; row++) {
            float[] mags = new float[cols];
            for (int c = 0; c < cols; c++) mags[c] = Math.abs(a[row * cols + c]);
            float[] sorted = mags.clone();
            Arrays.sort(sorted);
            float lo = sorted[cols / 10], hi = sorted[cols - cols / 10];
            for (int c = 0; c < cols; c++) {
                boolean k = got[row * cols + c] != 0;
                kept += k ? 1 : 0;
                if (mags[c] >= hi) {
                    top++;
                    keptTop += k ? 1 : 0;
                } else if (mags[c] < lo) {
                    bottom++;
                    keptBottom += k ? 1 : 0;
                }
            }
        }
        // density 0.5: keep probabilities run from 0.2 (smallest) to 0.8 (largest)
        assertEquals(0.5, kept / (double) n, 0.01);
        assertEquals(0.77, keptTop / (double) top, 0.03);
        assertEquals(0.23, keptBottom / (double) bottom, 0.03);
    }

    @Test
    void dellaIsReproducibleBySeed() {
        Random r = new Random(44);
        int n = 20_000;
        float[] base = random(r, n), a = random(r, n), b = random(r, n);
        List<Map<String, Object>> p = List.of(Map.of(), wde(1.0, 0.5, 0.1), wde(1.0, 0.5, 0.1));
        float[] one = run("della", Map.of(), true, List.of(base, a, b), p, new long[]{20, 1000}, 5L);
        float[] again = run("della", Map.of(), true, List.of(base, a, b), p, new long[]{20, 1000}, 5L);
        float[] other = run("della", Map.of(), true, List.of(base, a, b), p, new long[]{20, 1000}, 6L);
        assertArrayEquals(one, again);
        assertFalse(Arrays.equals(one, other));
    }

    @Test
    void dellaEdgeCases() {
        Random r = new Random(45);
        int n = 100;
        float[] base = random(r, n), a = random(r, n);
        // density 1: no pruning, plain weighted task vector (della normalises by the weight)
        float[] full = run("della", Map.of(), true, List.of(base, a), List.of(Map.of(), wde(0.5, 1.0, 0.15)), new long[]{n});
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = a[i];
        close(want, full);
        // density 0: the base
        float[] none = run("della_linear", Map.of(), true, List.of(base, a), List.of(Map.of(), wde(1.0, 0.0, 0.15)), new long[]{n});
        assertArrayEquals(base, none);
        // epsilon too wide for the density
        var e = assertThrows(RecipeException.class, () -> run("della", Map.of(), true, List.of(base, a),
                List.of(Map.of(), wde(1.0, 0.1, 0.15)), new long[]{n}));
        assertTrue(e.getMessage().contains(NAME) && e.getMessage().contains("model m1") && e.getMessage().contains("epsilon"),
                e.getMessage());
        // a default epsilon is declared
        var della = MergeMethods.find("della").orElseThrow();
        assertEquals(0.15, della.tensorParameters().stream().filter(d -> d.name().equals("epsilon")).findFirst().orElseThrow().defaultValue());
        assertFalse(della.elementwise(Map.of()));
        var missing = assertThrows(RecipeException.class, () -> run("della", Map.of(), false, List.of(base, a),
                List.of(wde(1, 0.5, 0.1), wde(1, 0.5, 0.1)), new long[]{n}));
        assertTrue(missing.getMessage().contains("base_model"), missing.getMessage());
    }

    // ---- sce ----

    /** mergekit's sce_merge with the tie rule for equal variances (lowest index kept). */
    static double[] sce(float[] base, List<float[]> xs, double topk) {
        int n = base.length, m = xs.size();
        double[][] tv = new double[m][n];
        for (int j = 0; j < m; j++) for (int i = 0; i < n; i++) tv[j][i] = xs.get(j)[i] - base[i];
        if (topk < 1) {
            double[] var = new double[n];
            int nonzero = 0;
            for (int i = 0; i < n; i++) {
                double mean = 0;
                for (int j = 0; j < m; j++) mean += tv[j][i] / m;
                for (int j = 0; j < m; j++) var[i] += (tv[j][i] - mean) * (tv[j][i] - mean) / m;
                if (var[i] != 0) nonzero++;
            }
            int k = topk <= 0 ? 0 : (int) (nonzero * topk);
            Integer[] idx = IntStream.range(0, n).boxed().toArray(Integer[]::new);
            Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -var[i]).thenComparingInt(i -> i));
            boolean[] keep = new boolean[n];
            for (int q = 0; q < k; q++) keep[idx[q]] = true;
            for (int j = 0; j < m; j++) for (int i = 0; i < n; i++) if (!keep[i]) tv[j][i] = 0;
        }
        double[] w = new double[m];
        double total = 0;
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < n; i++) w[j] += tv[j][i] * tv[j][i] / n;
            total += w[j];
        }
        for (int j = 0; j < m; j++) w[j] = Math.abs(total) < 1e-6 ? 1.0 / m : w[j] / total;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < m; j++) sum += tv[j][i];
            double mix = 0, div = 0;
            for (int j = 0; j < m; j++) {
                if (sum >= 0 ? tv[j][i] > 0 : tv[j][i] < 0) {
                    mix += tv[j][i] * w[j];
                    div += w[j];
                }
            }
            out[i] = base[i] + mix / Math.max(div, 1e-6);
        }
        return out;
    }

    @Test
    void sceMatchesTheReference() {
        Random r = new Random(51);
        int n = 21_000;
        float[] base = random(r, n), a = random(r, n), b = random(r, n), c = random(r, n);
        for (int i = 0; i < n; i++) c[i] = base[i] + 3 * (c[i] - base[i]); // a larger task vector weighs more
        List<Map<String, Object>> none = List.of(Map.of(), Map.of(), Map.of(), Map.of());
        close(sce(base, List.of(a, b, c), 1), run("sce", Map.of(), true, List.of(base, a, b, c), none, new long[]{n}));
        close(sce(base, List.of(a, b, c), 0.3),
                run("sce", Map.of("select_topk", 0.3), true, List.of(base, a, b, c), none, new long[]{21, 1000}));
    }

    @Test
    void sceSelectionKeepsLowestIndexAmongEqualVariances() {
        float[] base = new float[6];
        float[] a = {1, 1, 1, 2, 0, 1};
        float[] b = {-1, -1, -1, -2, 0, -1};
        // variances 1, 1, 1, 4, 0, 1: five nonzero, k = int(5 · 0.6) = 3: the 4 and the first two 1s
        float[] got = run("sce", Map.of("select_topk", 0.6), true, List.of(base, a, b),
                List.of(Map.of(), Map.of(), Map.of()), new long[]{6});
        // equal weights; sum 0 elects +: only a's positive deltas survive, divided by a's weight
        assertArrayEquals(new float[]{1, 1, 0, 2, 0, 0}, got);
    }

    @Test
    void sceEdgeCases() {
        Random r = new Random(52);
        int n = 300;
        float[] base = random(r, n), a = random(r, n);
        List<Map<String, Object>> two = List.of(Map.of(), Map.of());
        // one model: its own task vector comes back
        close(toDouble(a), run("sce", Map.of(), true, List.of(base, a), two, new long[]{n}));
        // one model with selection: no variance anywhere, nothing kept
        assertArrayEquals(base, run("sce", Map.of("select_topk", 0.5), true, List.of(base, a), two, new long[]{n}));
        assertArrayEquals(base, run("sce", Map.of("select_topk", 0.0), true, List.of(base, a, a),
                List.of(Map.of(), Map.of(), Map.of()), new long[]{n}));
        // unchanged tensors: the base
        assertArrayEquals(base, run("sce", Map.of(), true, List.of(base, base, base),
                List.of(Map.of(), Map.of(), Map.of()), new long[]{n}));
        float[] nan = a.clone();
        nan[7] = Float.NaN;
        var e = assertThrows(RecipeException.class, () -> run("sce", Map.of(), true, List.of(base, a, nan),
                List.of(Map.of(), Map.of(), Map.of()), new long[]{n}));
        assertTrue(e.getMessage().contains("of model m2"), e.getMessage());
        var sce = MergeMethods.find("sce").orElseThrow();
        assertTrue(sce.needsBaseModel());
        assertTrue(sce.tensorParameters().isEmpty());
    }

    static double[] toDouble(float[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) r[i] = x[i];
        return r;
    }
}
