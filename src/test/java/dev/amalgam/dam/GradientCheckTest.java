package dev.amalgam.dam;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.*;

/** The analytic coefficient gradient (forward, backward, regularisers) against central finite differences. */
class GradientCheckTest {

    static float[][] randomWeights(Layout layout, Random r, double scale) {
        float[][] w = new float[layout.size()][];
        for (int t = 0; t < layout.size(); t++) {
            w[t] = new float[Math.toIntExact(layout.elements(t))];
            for (int i = 0; i < w[t].length; i++) {
                w[t][i] = layout.isVector(t) ? (float) (1 + 0.3 * r.nextGaussian()) : (float) (scale * r.nextGaussian());
            }
        }
        return w;
    }

    static List<int[]> randomSequences(Random r, int count, int len, int vocab) {
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            int[] seq = new int[len - s % 2];
            for (int i = 0; i < seq.length; i++) seq[i] = r.nextInt(vocab);
            out.add(seq);
        }
        return out;
    }

    @Test
    void coefficientGradientMatchesFiniteDifferences() {
        check(new LlamaConfig(8, 2, 1, 12, 2, 11, 1e-5, 10000, false), 2.0);
        check(new LlamaConfig(8, 2, 2, 6, 1, 9, 1e-5, 500, true), 1.0);
    }

    private void check(LlamaConfig config, double temp) {
        Layout layout = Layout.of(config);
        Random r = new Random(7);
        List<float[][]> sources = List.of(randomWeights(layout, r, 0.5), randomWeights(layout, r, 0.5));
        List<int[]> seqs = randomSequences(r, 3, 5, config.vocab());
        var settings = new DamFit.Settings(1, 0.1, temp, 0.05, 1e-3, 1e-3, false, 2, 0);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Objective obj = new Objective(layout, sources, 8);
            DamFit fit = new DamFit(layout, sources, seqs, seqs, 8, settings);
            var targets = obj.targets(seqs, temp, pool);
            float[][][] coef = new float[layout.size()][2][];
            for (int t = 0; t < layout.size(); t++) {
                for (int m = 0; m < 2; m++) {
                    coef[t][m] = new float[layout.cols()[t]];
                    for (int i = 0; i < coef[t][m].length; i++) coef[t][m][i] = (float) (0.5 + 0.3 * r.nextGaussian());
                }
            }
            boolean[] frozen = new boolean[layout.size()];
            var value = obj.evaluate(coef, targets, temp, true, pool);
            double[][][] grad = value.grad();
            fit.regularise(coef, grad, frozen);
            int checked = 0;
            for (int t = 0; t < layout.size(); t++) {
                for (int m = 0; m < 2; m++) {
                    for (int k = 0; k < 3; k++) {
                        int i = r.nextInt(layout.cols()[t]);
                        float keep = coef[t][m][i];
                        double h = 2e-3; // small enough for the curvature, large enough for F32 noise
                        coef[t][m][i] = (float) (keep + h);
                        double up = obj.evaluate(coef, targets, temp, false, pool).kl()
                                + fit.regularise(coef, obj.zeros(), frozen);
                        coef[t][m][i] = (float) (keep - h);
                        double down = obj.evaluate(coef, targets, temp, false, pool).kl()
                                + fit.regularise(coef, obj.zeros(), frozen);
                        coef[t][m][i] = keep;
                        double numeric = (up - down) / ((double) (float) (keep + h) - (double) (float) (keep - h));
                        double analytic = grad[t][m][i];
                        assertEquals(numeric, analytic, 2e-5 + 0.02 * Math.abs(numeric),
                                layout.names().get(t) + " model " + m + " column " + i);
                        checked++;
                    }
                }
            }
            assertTrue(checked > 50);
        } finally {
            pool.shutdownNow();
        }
    }
}
