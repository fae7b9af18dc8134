package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.RecipeException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.amalgam.merge.method.MethodsTest.close;
import static dev.amalgam.merge.method.MethodsTest.random;
import static dev.amalgam.merge.method.MethodsTest.run;
import static dev.amalgam.merge.method.MethodsTest.w;
import static org.junit.jupiter.api.Assertions.*;

/** nuslerp, multislerp and karcher against mergekit's steps written out here in double precision. */
class SphericalMethodsTest {
    // ---- small double-precision vector helpers ----

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    static double[] d(float[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) r[i] = x[i];
        return r;
    }

    static double[] lin(double a, double[] x, double b, double[] y) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) r[i] = a * x[i] + b * y[i];
        return r;
    }

    static double[] minus(float[] x, float[] base) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) r[i] = (double) x[i] - base[i];
        return r;
    }

    /** mergekit's nuslerp of two vectors (no flattening question: the caller picks the vectors). */
    static double[] nuslerp(double t, double[] v0, double[] v1) {
        double[] u0 = lin(1 / Math.max(norm(v0), 1e-7), v0, 0, v0), u1 = lin(1 / Math.max(norm(v1), 1e-7), v1, 0, v1);
        double theta = Math.acos(Math.max(-1, Math.min(1, dot(u0, u1))));
        double sin = Math.sin(theta);
        if (Math.abs(sin) < 1e-8) return lin(1 - t, v0, t, v1);
        return lin(Math.sin((1 - t) * theta) / sin, v0, Math.sin(t * theta) / sin, v1);
    }

    // ---- nuslerp ----

    @Test
    void nuslerpFlattenedWithoutBaseIsSlerpAtTheWeightRatio() {
        Random r = new Random(11);
        int n = 20_000;
        float[] a = random(r, n), b = random(r, n);
        float[] got = run("nuslerp", Map.of(), false, List.of(a, b), List.of(w(0.4), w(0.6)), new long[]{100, 200});
        close(nuslerp(0.6, d(a), d(b)), got);
    }

    @Test
    void nuslerpWithBaseInterpolatesTaskVectors() {
        Random r = new Random(12);
        int n = 9000;
        float[] base = random(r, n), a = random(r, n), b = random(r, n);
        float[] got = run("nuslerp", Map.of(), true, List.of(base, a, b), List.of(Map.of(), w(1.0), w(3.0)), new long[]{n});
        double[] s = nuslerp(0.75, minus(a, base), minus(b, base));
        for (int i = 0; i < n; i++) s[i] += base[i];
        close(s, got);
    }

    @Test
    void nuslerpPerRowAndPerColumn() {
        Random r = new Random(13);
        int rows = 7, cols = 1500; // rows straddle chunk boundaries
        int n = rows * cols;
        float[] a = random(r, n), b = random(r, n);
        long[] shape = {rows, cols};
        float[] byRow = run("nuslerp", Map.of("nuslerp_flatten", false), false, List.of(a, b), List.of(w(1.0), w(1.0)), shape);
        double[] want = new double[n];
        for (int row = 0; row < rows; row++) {
            double[] v0 = new double[cols], v1 = new double[cols];
            for (int c = 0; c < cols; c++) {
                v0[c] = a[row * cols + c];
                v1[c] = b[row * cols + c];
            }
            double[] s = nuslerp(0.5, v0, v1);
            for (int c = 0; c < cols; c++) want[row * cols + c] = s[c];
        }
        close(want, byRow);
        float[] byColumn = run("nuslerp", Map.of("nuslerp_flatten", false, "nuslerp_row_wise", true), false,
                List.of(a, b), List.of(w(2.0), w(1.0)), shape);
        for (int c = 0; c < cols; c++) {
            double[] v0 = new double[rows], v1 = new double[rows];
            for (int row = 0; row < rows; row++) {
                v0[row] = a[row * cols + c];
                v1[row] = b[row * cols + c];
            }
            double[] s = nuslerp(1.0 / 3, v0, v1);
            for (int row = 0; row < rows; row++) want[row * cols + c] = s[row];
        }
        close(want, byColumn);
    }

    @Test
    void nuslerpEdgeCases() {
        Random r = new Random(14);
        int n = 300;
        float[] a = random(r, n);
        float[] twice = new float[n], zero = new float[n];
        for (int i = 0; i < n; i++) twice[i] = 2 * a[i];
        // parallel: linear interpolation
        float[] par = run("nuslerp", Map.of(), false, List.of(a, twice), List.of(w(0.5), w(0.5)), new long[]{n});
        close(lin(0.5, d(a), 0.5, d(twice)), par);
        // a zero vector: cos 0, a quarter circle
        float[] z = run("nuslerp", Map.of(), false, List.of(a, zero), List.of(w(0.7), w(0.3)), new long[]{n});
        close(lin(Math.sin(0.7 * Math.PI / 2), d(a), 0, d(a)), z);
        // weights summing to ~zero: t = 0.5
        float[] b = random(r, n);
        float[] half = run("nuslerp", Map.of(), false, List.of(a, b), List.of(w(1.0), w(-1.0)), new long[]{n});
        close(nuslerp(0.5, d(a), d(b)), half);
        // one model: itself
        assertArrayEquals(a, run("nuslerp", Map.of(), false, List.of(a), List.of(w(1.0)), new long[]{n}));
    }

    @Test
    void nuslerpRejectsThreeModelsAndNonFiniteInputs() {
        float[] a = {1, 2}, b = {2, 1}, c = {0, 1}, nan = {Float.NaN, 1};
        var three = assertThrows(RecipeException.class, () -> run("nuslerp", Map.of(), false, List.of(a, b, c),
                List.of(w(1.0), w(1.0), w(1.0)), new long[]{2}));
        assertTrue(three.getMessage().contains(MethodsTest.NAME) && three.getMessage().contains("exactly two"), three.getMessage());
        var bad = assertThrows(RecipeException.class, () -> run("nuslerp", Map.of(), false, List.of(a, nan),
                List.of(w(1.0), w(1.0)), new long[]{2}));
        assertTrue(bad.getMessage().contains("of model m1"), bad.getMessage());
        assertNotNull(MergeMethods.find("nuslerp").orElseThrow().checkInputCount(2, true));
        assertNull(MergeMethods.find("nuslerp").orElseThrow().checkInputCount(3, true));
        assertNull(MergeMethods.find("nuslerp").orElseThrow().checkInputCount(2, false));
    }

    // ---- multislerp ----

    /** mergekit's multislerp, step by step on whole vectors. */
    static double[] multislerp(List<double[]> vs, double[] weight, boolean normalize, double eps) {
        int m = vs.size(), n = vs.getFirst().length;
        double[] w = weight.clone();
        double sum = 0;
        for (double x : w) sum += x;
        if (normalize) for (int i = 0; i < m; i++) w[i] /= sum;
        double[] norms = new double[m];
        List<double[]> units = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            norms[i] = norm(vs.get(i));
            units.add(lin(1 / (norms[i] + eps), vs.get(i), 0, vs.get(i)));
        }
        double[] mean = new double[n];
        for (int i = 0; i < m; i++) mean = lin(1, mean, w[i], units.get(i));
        double mn = norm(mean);
        if (mn < eps) {
            assertEquals(2, m, "mergekit falls back only for two models");
            return lin(w[0], vs.get(0), w[1], vs.get(1));
        }
        mean = lin(1 / mn, mean, 0, mean);
        double[] tangent = new double[n];
        for (int i = 0; i < m; i++) {
            double[] ti = lin(1, units.get(i), -dot(units.get(i), mean), mean);
            tangent = lin(1, tangent, w[i], ti);
        }
        double tn = norm(tangent) + eps;
        double[] res = lin(Math.cos(tn), mean, Math.sin(tn) / tn, tangent);
        double avg = 0;
        for (int i = 0; i < m; i++) avg += norms[i] * w[i];
        return lin(avg, res, 0, res);
    }

    @Test
    void multislerpMatchesTheReference() {
        Random r = new Random(21);
        int n = 17_000;
        float[] a = random(r, n), b = random(r, n), c = random(r, n);
        for (int i = 0; i < n; i++) c[i] = c[i] * 3 + 0.5f * a[i]; // different norm, correlated
        float[] got = run("multislerp", Map.of(), false, List.of(a, b, c), List.of(w(0.2), w(0.3), w(0.5)), new long[]{n});
        close(multislerp(List.of(d(a), d(b), d(c)), new double[]{0.2, 0.3, 0.5}, true, 1e-8), got);
        float[] raw = run("multislerp", Map.of("normalize_weights", false), false, List.of(a, b, c),
                List.of(w(1.0), w(2.0), w(0.5)), new long[]{n});
        close(multislerp(List.of(d(a), d(b), d(c)), new double[]{1, 2, 0.5}, false, 1e-8), raw);
    }

    @Test
    void multislerpWithBaseWorksOnTaskVectors() {
        Random r = new Random(22);
        int n = 5000;
        float[] base = random(r, n), a = random(r, n), b = random(r, n), c = random(r, n);
        float[] got = run("multislerp", Map.of(), true, List.of(base, a, b, c),
                List.of(Map.of(), w(1.0), w(1.0), w(2.0)), new long[]{n});
        double[] want = multislerp(List.of(minus(a, base), minus(b, base), minus(c, base)), new double[]{1, 1, 2}, true, 1e-8);
        for (int i = 0; i < n; i++) want[i] += base[i];
        close(want, got);
    }

    @Test
    void multislerpEdgeCases() {
        Random r = new Random(23);
        int n = 400;
        float[] a = random(r, n), neg = new float[n], zero = new float[n];
        for (int i = 0; i < n; i++) neg[i] = -a[i];
        // two antipodal models with balancing weights: linear combination, as mergekit
        float[] anti = run("multislerp", Map.of(), false, List.of(a, neg), List.of(w(1.0), w(1.0)), new long[]{n});
        close(new double[n], anti);
        // three whose unit mean vanishes: a clear error
        var e = assertThrows(RecipeException.class, () -> run("multislerp", Map.of(), false, List.of(a, neg, zero),
                List.of(w(1.0), w(1.0), w(1.0)), new long[]{n}));
        assertTrue(e.getMessage().contains(MethodsTest.NAME) && e.getMessage().contains("zero"), e.getMessage());
        // every task vector zero (an unchanged tensor): the base, for any number of models
        float[] unchanged = run("multislerp", Map.of(), true, List.of(a, a, a, a),
                List.of(Map.of(), w(1.0), w(1.0), w(1.0)), new long[]{n});
        assertArrayEquals(a, unchanged);
        // parallel vectors: the weighted mean norm along their direction
        float[] twice = new float[n];
        for (int i = 0; i < n; i++) twice[i] = 2 * a[i];
        float[] par = run("multislerp", Map.of(), false, List.of(a, twice), List.of(w(1.0), w(1.0)), new long[]{n});
        close(lin(1.5, d(a), 0, d(a)), par);
        // one model besides the base: that model
        assertArrayEquals(neg, run("multislerp", Map.of(), true, List.of(a, neg), List.of(Map.of(), w(1.0)), new long[]{n}));
        var zeroSum = assertThrows(RecipeException.class, () -> run("multislerp", Map.of(), false, List.of(a, neg),
                List.of(w(1.0), w(-1.0)), new long[]{n}));
        assertTrue(zeroSum.getMessage().contains("sum to zero"), zeroSum.getMessage());
    }

    // ---- karcher ----

    /** mergekit's karcher_merge_tensors with equal weights, on whole vectors. */
    static double[] karcher(List<double[]> ts, int maxIter, double tol) {
        int m = ts.size(), n = ts.getFirst().length;
        double[] norms = new double[m];
        List<double[]> units = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            norms[i] = norm(ts.get(i));
            units.add(norms[i] == 0 ? new double[n] : lin(1 / norms[i], ts.get(i), 0, ts.get(i)));
        }
        List<double[]> valid = new ArrayList<>();
        for (int i = 0; i < m; i++) if (norms[i] > tol) valid.add(units.get(i));
        if (valid.isEmpty()) return new double[n];
        double a = 1.0 / valid.size();
        double[] u = new double[n];
        for (double[] ui : valid) u = lin(1, u, a, ui);
        double nu = norm(u);
        u = nu < tol ? valid.getFirst().clone() : lin(1 / nu, u, 0, u);
        for (int it = 0; it < maxIter; it++) {
            double[] t = new double[n];
            for (double[] ui : valid) {
                double dt = Math.max(-1, Math.min(1, dot(u, ui)));
                double theta = Math.acos(dt);
                if (theta < tol) continue;
                t = lin(1, t, a * theta / Math.sin(theta), lin(1, ui, -dt, u));
            }
            double nt = norm(t);
            if (nt < tol) break;
            u = lin(Math.cos(nt), u, Math.sin(nt) / nt, t);
            double un = norm(u);
            if (un > tol) u = lin(1 / un, u, 0, u);
        }
        double s = 0;
        for (double x : norms) s += x / m;
        return lin(s, u, 0, u);
    }

    @Test
    void karcherMatchesTheReference() {
        Random r = new Random(31);
        int n = 12_000;
        float[] a = random(r, n), b = random(r, n), c = random(r, n);
        for (int i = 0; i < n; i++) b[i] = 2 * b[i] + a[i];
        List<float[]> xs = List.of(a, b, c);
        List<Map<String, Object>> none = List.of(Map.of(), Map.of(), Map.of());
        close(karcher(List.of(d(a), d(b), d(c)), 10, 1e-5), run("karcher", Map.of(), false, xs, none, new long[]{n}));
        close(karcher(List.of(d(a), d(b), d(c)), 0, 1e-5), run("karcher", Map.of("max_iter", 0.0), false, xs, none, new long[]{n}));
        close(karcher(List.of(d(a), d(b), d(c)), 2, 1e-3),
                run("karcher", Map.of("max_iter", 2.0, "tol", 1e-3), false, xs, none, new long[]{n}));
        // the iteration moves the result away from the normalised arithmetic mean
        double[] start = karcher(List.of(d(a), d(b), d(c)), 0, 1e-5), end = karcher(List.of(d(a), d(b), d(c)), 10, 1e-5);
        double moved = 0;
        for (int i = 0; i < n; i++) moved = Math.max(moved, Math.abs(start[i] - end[i]));
        assertTrue(moved > 1e-3, "iterations matter in this test: " + moved);
        // a base model is one more input
        close(karcher(List.of(d(a), d(b), d(c)), 10, 1e-5), run("karcher", Map.of(), true, xs, none, new long[]{n}));
    }

    @Test
    void karcherEdgeCases() {
        Random r = new Random(32);
        int n = 500;
        float[] a = random(r, n), twice = new float[n], zero = new float[n];
        for (int i = 0; i < n; i++) twice[i] = 2 * a[i];
        List<Map<String, Object>> two = List.of(Map.of(), Map.of()), three = List.of(Map.of(), Map.of(), Map.of());
        // parallel: the mean norm along the common direction
        close(lin(1.5, d(a), 0, d(a)), run("karcher", Map.of(), false, List.of(a, twice), two, new long[]{n}));
        // a zero input is left out of the direction but counts in the mean norm
        close(lin(1.0, d(a), 0, d(a)), run("karcher", Map.of(), false, List.of(a, twice, zero), three, new long[]{n}));
        assertArrayEquals(zero, run("karcher", Map.of(), false, List.of(zero, zero), two, new long[]{n}));
        assertArrayEquals(a, run("karcher", Map.of(), false, List.of(a), List.of(Map.of()), new long[]{n}));
        var e = assertThrows(RecipeException.class, () -> run("karcher", Map.of("max_iter", 2.5), false, List.of(a, twice),
                two, new long[]{n}));
        assertTrue(e.getMessage().contains("max_iter"), e.getMessage());
        float[] inf = a.clone();
        inf[3] = Float.POSITIVE_INFINITY;
        var bad = assertThrows(RecipeException.class, () -> run("karcher", Map.of(), false, List.of(a, inf), two, new long[]{n}));
        assertTrue(bad.getMessage().contains("of model m1"), bad.getMessage());
    }
}
