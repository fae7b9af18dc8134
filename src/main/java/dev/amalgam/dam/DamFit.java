package dev.amalgam.dam;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Learns DAM coefficients (arXiv 2410.08371) for llama-style source models by plain
 * gradient descent: one coefficient per model and per column of every tensor, starting at 1/M
 * (the equal-weight linear merge), minimising
 * <pre>
 *   T² · mean over positions of Σₘ KL(pₘ ‖ p_merged)                         (temperature T)
 *   + λ_cos · Σ_tensors mean over model pairs of cos(coefₐ, coef_b)
 *   + λ_L1 · Σ_tensors Σₘ ‖coefₘ‖₁ + λ_L2 · Σ_tensors Σₘ ‖coefₘ‖₂
 * </pre>
 * over the training sequences, all of them at every step. With {@code linearOnly} the
 * embedding and norm coefficients stay at 1/M (the reference implementation's default).
 * Deterministic: same inputs and settings give the same coefficient bytes, whatever the threads.
 */
public final class DamFit {
    /** Fit settings; {@code evalEvery} is in steps (0: only at the start and the end). */
    public record Settings(int steps, double learningRate, double temperature, double lambdaCos, double lambdaL1,
                           double lambdaL2, boolean linearOnly, int threads, int evalEvery) {
        public Settings {
            if (steps < 0) throw new IllegalArgumentException("--steps must not be negative");
            if (!(learningRate > 0) || !Double.isFinite(learningRate)) throw new IllegalArgumentException("--lr must be positive");
            if (!(temperature > 0) || !Double.isFinite(temperature)) throw new IllegalArgumentException("--temperature must be positive");
            if (lambdaCos < 0 || lambdaL1 < 0 || lambdaL2 < 0) throw new IllegalArgumentException("the lambdas must not be negative");
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1");
        }

        /** The reference implementation's regulariser weights (λ_cos 0.01, λ_L1 = λ_L2 = 1e-6). */
        public static Settings defaults(int steps, double learningRate) {
            return new Settings(steps, learningRate, 1.0, 0.01, 1e-6, 1e-6, false,
                    Runtime.getRuntime().availableProcessors(), Math.max(1, steps / 10));
        }
    }

    /** One progress report: the training objective and, at evaluation steps, the held-out KL (else NaN). */
    public record Step(int step, double trainLoss, double trainKl, double heldOutKl) {
    }

    /**
     * The fitted coefficients and held-out divergences at temperature 1 (mean per position of
     * Σₘ KL(pₘ ‖ p_merged), and per model) for the equal-weight start and for the fit.
     */
    public record Result(Coefficients coefficients, double linearHeldOutKl, double[] linearPerModel,
                         double fittedHeldOutKl, double[] fittedPerModel, double firstTrainLoss, double lastTrainLoss,
                         List<Step> history) {
    }

    private final Layout layout;
    private final Objective objective;
    private final Settings settings;
    private final List<int[]> train, heldOut;

    /** {@code sources}: each model's weights as {@link Weights#read}; sequences of at most {@code maxLen} tokens. */
    public DamFit(Layout layout, List<float[][]> sources, List<int[]> train, List<int[]> heldOut, int maxLen,
                  Settings settings) {
        if (sources.size() < 2) throw new IllegalArgumentException("dam fit needs at least 2 models");
        if (train.isEmpty()) throw new IllegalArgumentException("no training sequences");
        if (heldOut.isEmpty()) throw new IllegalArgumentException("no held-out sequences");
        this.layout = layout;
        this.objective = new Objective(layout, sources, maxLen);
        this.settings = settings;
        this.train = train;
        this.heldOut = heldOut;
    }

    public Result run(Consumer<Step> progress) {
        ExecutorService pool = Executors.newFixedThreadPool(settings.threads(), r -> {
            Thread t = new Thread(r, "amalgam-dam");
            t.setDaemon(true);
            return t;
        });
        try {
            return fit(pool, progress);
        } finally {
            pool.shutdownNow();
        }
    }

    private Result fit(ExecutorService pool, Consumer<Step> progress) {
        int m = objective.models();
        var trainTargets = objective.targets(train, settings.temperature(), pool);
        var heldOutTargets = objective.targets(heldOut, 1.0, pool);
        float[][][] coef = new float[layout.size()][m][];
        for (int t = 0; t < layout.size(); t++) {
            for (int j = 0; j < m; j++) {
                coef[t][j] = new float[layout.cols()[t]];
                Arrays.fill(coef[t][j], 1f / m);
            }
        }
        boolean[] frozen = new boolean[layout.size()];
        if (settings.linearOnly()) {
            for (int t = 0; t < layout.size(); t++) frozen[t] = layout.isVector(t) || t == Layout.EMBED;
        }
        var linear = objective.evaluate(coef, heldOutTargets, 1.0, false, pool);
        List<Step> history = new ArrayList<>();
        double first = Double.NaN, last = Double.NaN;
        for (int step = 0; step <= settings.steps(); step++) {
            boolean finalStep = step == settings.steps();
            var value = objective.evaluate(coef, trainTargets, settings.temperature(), !finalStep, pool);
            double[][][] grad = finalStep ? objective.zeros() : value.grad();
            double loss = value.kl() + regularise(coef, grad, frozen);
            if (step == 0) first = loss;
            last = loss;
            boolean eval = finalStep || step == 0 || (settings.evalEvery() > 0 && step % settings.evalEvery() == 0);
            double held = eval ? objective.evaluate(coef, heldOutTargets, 1.0, false, pool).kl() : Double.NaN;
            Step s = new Step(step, loss, value.kl(), held);
            history.add(s);
            progress.accept(s);
            if (finalStep) break;
            float lr = (float) settings.learningRate();
            for (int t = 0; t < layout.size(); t++) {
                if (frozen[t]) continue;
                for (int j = 0; j < m; j++) {
                    float[] c = coef[t][j];
                    double[] g = grad[t][j];
                    for (int i = 0; i < c.length; i++) c[i] = c[i] - lr * (float) g[i];
                }
            }
        }
        var fitted = objective.evaluate(coef, heldOutTargets, 1.0, false, pool);
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (int t = 0; t < layout.size(); t++) out.put(layout.names().get(t), coef[t]);
        return new Result(new Coefficients(out), linear.kl(), linear.klPerModel(), fitted.kl(), fitted.klPerModel(),
                first, last, List.copyOf(history));
    }

    /** Adds the regularisers' gradients to {@code grad} (frozen tensors excepted) and returns their value. */
    double regularise(float[][][] coef, double[][][] grad, boolean[] frozen) {
        int m = objective.models();
        double loss = 0;
        int pairs = m * (m - 1) / 2;
        for (int t = 0; t < coef.length; t++) {
            if (frozen[t]) continue;
            double[] norm = new double[m];
            for (int a = 0; a < m; a++) {
                float[] c = coef[t][a];
                double l1 = 0, ss = 0;
                for (float v : c) {
                    l1 += Math.abs(v);
                    ss += (double) v * v;
                }
                norm[a] = Math.sqrt(ss);
                loss += settings.lambdaL1() * l1 + settings.lambdaL2() * norm[a];
                for (int i = 0; i < c.length; i++) {
                    grad[t][a][i] += settings.lambdaL1() * Math.signum(c[i])
                            + (norm[a] > 0 ? settings.lambdaL2() * c[i] / norm[a] : 0);
                }
            }
            if (settings.lambdaCos() == 0 || pairs == 0) continue;
            for (int a = 0; a < m; a++) {
                for (int b = a + 1; b < m; b++) {
                    if (norm[a] == 0 || norm[b] == 0) continue;
                    float[] ca = coef[t][a], cb = coef[t][b];
                    double dot = 0;
                    for (int i = 0; i < ca.length; i++) dot += (double) ca[i] * cb[i];
                    double cos = dot / (norm[a] * norm[b]), k = settings.lambdaCos() / pairs;
                    loss += k * cos;
                    for (int i = 0; i < ca.length; i++) {
                        grad[t][a][i] += k * (cb[i] / (norm[a] * norm[b]) - cos * ca[i] / (norm[a] * norm[a]));
                        grad[t][b][i] += k * (ca[i] / (norm[a] * norm[b]) - cos * cb[i] / (norm[b] * norm[b]));
                    }
                }
            }
        }
        return loss;
    }
}
