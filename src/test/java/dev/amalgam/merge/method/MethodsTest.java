package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.CounterRandom;
import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorInfo;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/** Each method against values computed here independently, in double precision, on small tensors. */
class MethodsTest {
    static final String NAME = "model.layers.0.mlp.up_proj.weight";

    /** Runs a method over F32 inputs (base first when hasBase); returns the output. */
    static float[] run(String method, Map<String, Object> globals, boolean hasBase, List<float[]> xs,
                       List<Map<String, Object>> params, long[] shape) {
        return run(method, globals, hasBase, xs, params, shape, 42L);
    }

    /** As above, with the recipe seed given (randomised methods). */
    static float[] run(String method, Map<String, Object> globals, boolean hasBase, List<float[]> xs,
                       List<Map<String, Object>> params, long[] shape, long seed) {
        MergeMethod m = MergeMethods.find(method).orElseThrow();
        Map<String, Object> g = new HashMap<>();
        for (ParameterDef p : m.parameters()) if (p.defaultValue() != null) g.put(p.name(), p.defaultValue());
        g.putAll(globals);
        List<TensorContext.Input> inputs = new ArrayList<>();
        for (int i = 0; i < xs.size(); i++) {
            float[] x = xs.get(i);
            MemorySegment seg = Arena.ofAuto().allocate((long) x.length * 4);
            MemorySegment.copy(x, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, x.length);
            var info = new TensorInfo(NAME, DType.F32, shape, 0, x.length * 4L);
            Map<String, Object> p = new HashMap<>();
            for (ParameterDef d : m.tensorParameters()) if (d.defaultValue() != null) p.put(d.name(), d.defaultValue());
            p.putAll(params.get(i));
            inputs.add(new TensorContext.Input("m" + i, new Tensor(info, seg, "mem"), hasBase && i == 0, p));
        }
        float[] out = new float[xs.getFirst().length];
        m.merge(new TensorContext(NAME, inputs, g, Kernels.get(), seed,
                (from, v, n) -> System.arraycopy(v, 0, out, (int) from, n)));
        return out;
    }

    static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    static void close(double[] want, float[] got) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * Math.max(1, Math.abs(want[i])), "element " + i);
        }
    }

    static Map<String, Object> w(double weight) {
        return Map.of("weight", weight);
    }

    static Map<String, Object> wd(double weight, double density) {
        return Map.of("weight", weight, "density", density);
    }

    @Test
    void linearIsTheNormalisedWeightedSum() {
        Random r = new Random(1);
        int n = 20_000; // more than one chunk
        float[] a = random(r, n), b = random(r, n), c = random(r, n);
        float[] got = run("linear", Map.of(), false, List.of(a, b, c), List.of(w(1.0), w(0.3), w(0.5)), new long[]{n});
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = (a[i] + 0.3 * b[i] + 0.5 * c[i]) / 1.8;
        close(want, got);
        float[] raw = run("linear", Map.of("normalize", false), false, List.of(a, b), List.of(w(2.0), w(-1.0)), new long[]{n});
        for (int i = 0; i < n; i++) want[i] = 2.0 * a[i] - b[i];
        close(Arrays.copyOf(want, n), raw);
    }

    @Test
    void linearRefusesWeightsSummingToZero() {
        float[] a = {1, 2};
        var e = assertThrows(RecipeException.class,
                () -> run("linear", Map.of(), false, List.of(a, a), List.of(w(1.0), w(-1.0)), new long[]{2}));
        assertTrue(e.getMessage().contains(NAME));
    }

    @Test
    void taskArithmeticAddsWeightedDeltasTimesLambda() {
        Random r = new Random(2);
        int n = 1000;
        float[] base = random(r, n), a = random(r, n), b = random(r, n);
        float[] got = run("task_arithmetic", Map.of("lambda", 0.5), true, List.of(base, a, b),
                List.of(Map.of(), w(0.7), w(0.2)), new long[]{n});
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = base[i] + 0.5 * (0.7 * (a[i] - base[i]) + 0.2 * (b[i] - base[i]));
        close(want, got);
    }

    /** Reference TIES: top-k by |δ| (ties by index), sign election on the sum, disjoint mean. */
    static double[] ties(float[] base, List<float[]> xs, double[] weights, double density, boolean normalize) {
        int n = base.length, m = xs.size();
        double[][] wdel = new double[m][n];
        for (int j = 0; j < m; j++) {
            float[] d = new float[n];
            for (int i = 0; i < n; i++) d[i] = xs.get(j)[i] - base[i];
            int k = (int) (density * n);
            Integer[] idx = IntStream.range(0, n).boxed().toArray(Integer[]::new);
            final float[] dd = d;
            Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -Math.abs(dd[i])).thenComparingInt(i -> i));
            boolean[] keep = new boolean[n];
            for (int q = 0; q < (density >= 1 ? n : k); q++) keep[idx[q]] = true;
            for (int i = 0; i < n; i++) wdel[j][i] = keep[i] ? d[i] * weights[j] : 0;
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < m; j++) sum += wdel[j][i];
            double sign = sum >= 0 ? 1 : -1;
            double mix = 0, div = 0;
            for (int j = 0; j < m; j++) {
                if (Math.signum(wdel[j][i]) == sign) {
                    mix += wdel[j][i];
                    div += weights[j];
                }
            }
            if (div == 0) div = 1;
            out[i] = base[i] + (normalize ? mix / div : mix);
        }
        return out;
    }

    @Test
    void tiesMatchesTheReferenceAlgorithm() {
        Random r = new Random(3);
        int n = 12_345;
        float[] base = random(r, n), a = random(r, n), b = random(r, n), c = random(r, n);
        float[] got = run("ties", Map.of(), true, List.of(base, a, b, c),
                List.of(Map.of(), wd(1.0, 0.5), wd(0.5, 0.5), wd(0.8, 0.5)), new long[]{15, 823});
        close(ties(base, List.of(a, b, c), new double[]{1.0, 0.5, 0.8}, 0.5, true), got);
    }

    @Test
    void tiesKeepsLowestIndexAmongEqualMagnitudes() {
        float[] base = new float[8];
        float[] a = {1, 1, 1, 1, -1, -1, 2, 0};
        float[] got = run("ties", Map.of(), true, List.of(base, a), List.of(Map.of(), wd(1.0, 0.5)), new long[]{8});
        // k = 4: the 2 and the first three elements of magnitude 1
        assertArrayEquals(new float[]{1, 1, 1, 0, 0, 0, 2, 0}, got);
    }

    @Test
    void breadcrumbsDropsTheLargestAndSmallest() {
        float[] base = new float[20];
        float[] a = new float[20];
        for (int i = 0; i < 20; i++) a[i] = i + 1; // magnitudes 1..20, all distinct
        float[] got = run("breadcrumbs", Map.of(), true, List.of(base, a),
                List.of(Map.of(), Map.of("weight", 1.0, "density", 0.5, "gamma", 0.1)), new long[]{20});
        // 20 elements: drop the top 2 (20, 19), keep the next 10 (18..9), drop the rest
        for (int i = 0; i < 20; i++) assertEquals(i + 1 >= 9 && i + 1 <= 18 ? i + 1 : 0f, got[i], "element " + i);
    }

    @Test
    void dareDropsWithCounterRandomnessAndRescalesL1() {
        Random r = new Random(4);
        int n = 10_000;
        float[] base = random(r, n), a = random(r, n);
        float[] got = run("dare_linear", Map.of(), true, List.of(base, a), List.of(Map.of(), wd(1.0, 0.3)), new long[]{n});
        CounterRandom rnd = new CounterRandom(42L, NAME, 0);
        double before = 0, after = 0;
        float[] d = new float[n];
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) {
            d[i] = a[i] - base[i];
            keep[i] = rnd.uniform(i) < 0.3f;
            before += Math.abs(d[i]);
            if (keep[i]) after += Math.abs(d[i]);
        }
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = base[i] + (keep[i] ? d[i] * (before / after) : 0);
        close(want, got);
        float[] again = run("dare_linear", Map.of(), true, List.of(base, a), List.of(Map.of(), wd(1.0, 0.3)), new long[]{n});
        assertArrayEquals(got, again, "same seed and name, same output");
    }

    @Test
    void dareTiesWithFullDensityEqualsTiesWithoutSparsification() {
        Random r = new Random(5);
        int n = 500;
        float[] base = random(r, n), a = random(r, n), b = random(r, n);
        float[] got = run("dare_ties", Map.of("normalize", true), true, List.of(base, a, b),
                List.of(Map.of(), wd(0.6, 1.0), wd(0.4, 1.0)), new long[]{n});
        close(ties(base, List.of(a, b), new double[]{0.6, 0.4}, 1.0, true), got);
    }

    @Test
    void slerpFollowsTheGreatCircle() {
        Random r = new Random(6);
        int n = 9000;
        float[] a = random(r, n), b = random(r, n);
        double t = 0.3;
        float[] got = run("slerp", Map.of("t", t), true, List.of(a, b), List.of(Map.of(), Map.of()), new long[]{n});
        double na = 0, nb = 0, dot = 0;
        for (int i = 0; i < n; i++) {
            na += a[i] * (double) a[i];
            nb += b[i] * (double) b[i];
            dot += a[i] * (double) b[i];
        }
        double cos = dot / Math.sqrt(na) / Math.sqrt(nb);
        double theta = Math.acos(cos);
        double s0 = Math.sin((1 - t) * theta) / Math.sin(theta), s1 = Math.sin(t * theta) / Math.sin(theta);
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = s0 * a[i] + s1 * b[i];
        close(want, got);
        float[] colinear = run("slerp", Map.of("t", t), true, List.of(a, a.clone()), List.of(Map.of(), Map.of()), new long[]{n});
        for (int i = 0; i < n; i++) want[i] = (1 - t) * a[i] + t * a[i];
        close(want, colinear);
    }

    @Test
    void modelStockInterpolatesByTheMeanAngle() {
        Random r = new Random(7);
        int n = 4000;
        float[] base = random(r, n), a = random(r, n), b = random(r, n);
        float[] got = run("model_stock", Map.of(), true, List.of(base, a, b), List.of(Map.of(), Map.of(), Map.of()), new long[]{n});
        double dab = 0, daa = 0, dbb = 0;
        for (int i = 0; i < n; i++) {
            double x = a[i] - base[i], y = b[i] - base[i];
            dab += x * y;
            daa += x * x;
            dbb += y * y;
        }
        double cos = dab / (Math.sqrt(daa) * Math.sqrt(dbb));
        double t = 2 * cos / (1 + cos);
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = t * (a[i] + b[i]) / 2 + (1 - t) * base[i];
        close(want, got);
    }

    @Test
    void passthroughCopiesAndScales() {
        float[] a = {1, -2, 3};
        assertArrayEquals(a, run("passthrough", Map.of(), false, List.of(a), List.of(Map.of()), new long[]{3}));
        assertArrayEquals(new float[]{0.5f, -1f, 1.5f},
                run("passthrough", Map.of(), false, List.of(a), List.of(Map.of("scale", 0.5)), new long[]{3}));
    }

    @Test
    void everyMethodDeclaresWhatTheIssueLists() {
        var names = MergeMethods.all().stream().map(MergeMethod::name).toList();
        assertEquals(List.of("linear", "slerp", "task_arithmetic", "ties", "dare_ties", "dare_linear", "breadcrumbs",
                "breadcrumbs_ties", "model_stock", "passthrough", "della", "della_linear", "sce", "nuslerp", "multislerp",
                "karcher", "nearswap", "arcee_fusion", "ram", "ramplus_tl", "dam"), names);
        var ties = MergeMethods.find("ties").orElseThrow();
        assertEquals(Boolean.TRUE, ties.parameters().stream().filter(p -> p.name().equals("normalize")).findFirst().orElseThrow().defaultValue());
        var dare = MergeMethods.find("dare_ties").orElseThrow();
        assertEquals(Boolean.TRUE, dare.parameters().stream().filter(p -> p.name().equals("rescale")).findFirst().orElseThrow().defaultValue());
    }
}
