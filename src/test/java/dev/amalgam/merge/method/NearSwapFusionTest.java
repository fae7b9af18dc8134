package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.RecipeException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.amalgam.merge.method.MethodsTest.NAME;
import static dev.amalgam.merge.method.MethodsTest.close;
import static dev.amalgam.merge.method.MethodsTest.random;
import static dev.amalgam.merge.method.MethodsTest.run;
import static org.junit.jupiter.api.Assertions.*;

/** nearswap and arcee_fusion against references written here in double precision. */
class NearSwapFusionTest {
    static final List<Map<String, Object>> TWO = List.of(Map.of(), Map.of());

    @Test
    void nearswapTakesTheOtherValueWhereItIsNear() {
        Random r = new Random(61);
        int n = 10_000;
        float[] base = random(r, n), b = base.clone();
        for (int i = 0; i < n; i++) b[i] += (float) (r.nextGaussian() * Math.pow(10, -r.nextInt(6)));
        double t = 0.001;
        float[] got = run("nearswap", Map.of("t", t), true, List.of(base, b), TWO, new long[]{n});
        double[] want = new double[n];
        for (int i = 0; i < n; i++) {
            double w = Math.min(1, Math.max(0, t / Math.max(Math.abs((double) base[i] - b[i]), 1e-6)));
            want[i] = w * b[i] + (1 - w) * base[i];
        }
        close(want, got);
        assertArrayEquals(base, run("nearswap", Map.of("t", 0.0), true, List.of(base, b), TWO, new long[]{n}));
        assertArrayEquals(b, run("nearswap", Map.of("t", 1e9), true, List.of(base, b), TWO, new long[]{n}));
        assertArrayEquals(base, run("nearswap", Map.of("t", 0.5), true, List.of(base, base.clone()), TWO, new long[]{n}));
    }

    @Test
    void nearswapNeedsExactlyBaseAndOneOther() {
        float[] a = {1, 2};
        var e = assertThrows(RecipeException.class, () -> run("nearswap", Map.of("t", 0.1), true, List.of(a, a, a),
                List.of(Map.of(), Map.of(), Map.of()), new long[]{2}));
        assertTrue(e.getMessage().contains(NAME), e.getMessage());
        var m = MergeMethods.find("nearswap").orElseThrow();
        assertNotNull(m.checkInputCount(3, true));
        assertTrue(m.elementwise(Map.of()));
        assertTrue(m.parameters().getFirst().required());
    }

    /** mergekit's arcee fusion with exact quantiles (index ⌊q·(n − 1)⌋ of the sorted importances). */
    static double[] fusion(float[] a, float[] b, int rows, int cols) {
        int n = rows * cols;
        float[] imp = new float[n];
        for (int r = 0; r < rows; r++) {
            double ma = Double.NEGATIVE_INFINITY, mb = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                ma = Math.max(ma, a[r * cols + c]);
                mb = Math.max(mb, b[r * cols + c]);
            }
            double sa = 0, sb = 0;
            for (int c = 0; c < cols; c++) {
                sa += Math.exp(a[r * cols + c] - ma);
                sb += Math.exp(b[r * cols + c] - mb);
            }
            double kl = 0;
            for (int c = 0; c < cols; c++) {
                double p = Math.exp(b[r * cols + c] - mb) / sb + 1e-8, q = Math.exp(a[r * cols + c] - ma) / sa + 1e-8;
                kl += p * Math.log(p / q);
            }
            for (int c = 0; c < cols; c++) imp[r * cols + c] = Math.abs(b[r * cols + c] - a[r * cols + c]) * (float) kl;
        }
        float[] sorted = imp.clone();
        Arrays.sort(sorted);
        float median = sorted[(n - 1) / 2], q1 = sorted[(n - 1) / 4], q3 = sorted[3 * (n - 1) / 4];
        float threshold = median + 1.5f * (q3 - q1);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = imp[i] >= threshold ? b[i] : a[i];
        return out;
    }

    @Test
    void arceeFusionMatchesTheReference() {
        Random r = new Random(71);
        int rows = 37, cols = 300;
        int n = rows * cols;
        float[] a = random(r, n), b = a.clone();
        for (int i = 0; i < n; i++) b[i] += (float) (r.nextGaussian() * (i % 7 == 0 ? 1 : 0.01));
        float[] got = run("arcee_fusion", Map.of(), true, List.of(a, b), TWO, new long[]{rows, cols});
        double[] want = fusion(a, b, rows, cols);
        close(want, got);
        int taken = 0;
        for (int i = 0; i < n; i++) if (got[i] != a[i]) taken++;
        assertTrue(taken > 0 && taken < n / 2, "takes some, not most, of the changes: " + taken);
        // a 1-D tensor is one row
        float[] flat = run("arcee_fusion", Map.of(), true, List.of(a, b), TWO, new long[]{n});
        close(fusion(a, b, 1, n), flat);
    }

    @Test
    void arceeFusionOrderSelectFindsExactRanks() {
        Random r = new Random(72);
        float[] x = new float[50_001];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(10) - 5));
        x[5] = -0f;
        x[6] = 0f;
        x[7] = Float.NEGATIVE_INFINITY;
        long[] ranks = {0, 7, 12_345, 25_000, 50_000};
        var s = new ArceeFusion.OrderSelect(ranks);
        s.countHigh(x, x.length);
        s.endHigh();
        s.countLow(x, x.length);
        float[] sorted = x.clone();
        Arrays.sort(sorted);
        for (int q = 0; q < ranks.length; q++) assertEquals(sorted[(int) ranks[q]], s.value(q), 0f, "rank " + ranks[q]);
    }

    @Test
    void arceeFusionEdgeCases() {
        Random r = new Random(73);
        int n = 64;
        float[] a = random(r, n);
        // no change anywhere: the base
        assertArrayEquals(a, run("arcee_fusion", Map.of(), true, List.of(a, a.clone()), TWO, new long[]{8, 8}));
        float[] inf = a.clone();
        inf[9] = Float.POSITIVE_INFINITY;
        var e = assertThrows(RecipeException.class, () -> run("arcee_fusion", Map.of(), true, List.of(a, inf), TWO, new long[]{8, 8}));
        assertTrue(e.getMessage().contains(NAME) && e.getMessage().contains("model m1") && e.getMessage().contains("softmax"),
                e.getMessage());
        var wrong = assertThrows(RecipeException.class, () -> run("arcee_fusion", Map.of(), false, List.of(a, a), TWO, new long[]{n}));
        assertTrue(wrong.getMessage().contains("base model"), wrong.getMessage());
        assertNotNull(MergeMethods.find("arcee_fusion").orElseThrow().checkInputCount(3, true));
    }
}
