package dev.amalgam.dam;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * DAM's loss over a set of token sequences and its gradient with respect to the coefficients.
 * The merged model's weights are {@code W[r, c] = Σₘ coef[m][c] · Wₘ[r, c]} (summed in model
 * order, as the {@code dam} merge method computes them). Its divergence from the source models is
 * {@code T² · mean over positions of Σₘ KL(softmax(zₘ/T) ‖ softmax(z/T))}, with {@code z} the
 * merged model's logits and {@code zₘ} model m's at the same position.
 *
 * <p>Sequences are processed in fixed blocks of {@value #BLOCK}, in parallel; each block's
 * gradient is reduced on its own and blocks are summed in order, so results do not depend on
 * the number of threads.
 */
final class Objective {
    static final int BLOCK = 4;

    /**
     * Source-model probabilities of one sequence at one temperature, p[m][t·V + v], and
     * plogp[m][t] = Σᵥ p·log p at each position.
     */
    record Targets(int[] tokens, float[][] p, double[][] plogp) {
    }

    /** Loss (KL part only) and, when asked, the gradient [tensor][model][column]. */
    record Value(double kl, double[] klPerModel, double[][][] grad) {
    }

    private final Layout layout;
    private final List<float[][]> sources;
    private final int maxLen;

    Objective(Layout layout, List<float[][]> sources, int maxLen) {
        this.layout = layout;
        this.sources = sources;
        this.maxLen = maxLen;
    }

    int models() {
        return sources.size();
    }

    /** The source models' distributions on every sequence at temperature {@code temp}. */
    List<Targets> targets(List<int[]> sequences, double temp, ExecutorService pool) {
        int m = models(), vocab = layout.config().vocab();
        List<Llama> nets = new ArrayList<>();
        for (float[][] s : sources) nets.add(new Llama(layout, s, maxLen));
        List<Future<Targets>> futures = new ArrayList<>();
        for (int[] seq : sequences) {
            futures.add(pool.submit(() -> {
                float[][] p = new float[m][];
                double[][] plogp = new double[m][seq.length];
                for (int j = 0; j < m; j++) {
                    float[] z = nets.get(j).forward(seq, null);
                    p[j] = new float[z.length];
                    for (int t = 0; t < seq.length; t++) plogp[j][t] = softmax(z, t * vocab, vocab, temp, p[j]);
                }
                return new Targets(seq, p, plogp);
            }));
        }
        return join(futures);
    }

    /**
     * Writes softmax(z/T) of positions [off, off + V) into p at the same place; returns Σ p·log p
     * of the stored (rounded) probabilities, so that KL(p‖p) is 0.
     */
    static double softmax(float[] z, int off, int vocab, double temp, float[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) max = Math.max(max, z[off + v] / temp);
        double sum = 0;
        for (int v = 0; v < vocab; v++) sum += StrictMath.exp(z[off + v] / temp - max);
        double logSum = StrictMath.log(sum), plogp = 0;
        for (int v = 0; v < vocab; v++) {
            double logp = z[off + v] / temp - max - logSum;
            float pf = (float) StrictMath.exp(logp);
            p[off + v] = pf;
            if (pf > 0) plogp += pf * StrictMath.log(pf);
        }
        return plogp;
    }

    /** The merged weights for the given coefficients [tensor][model][column]. */
    float[][] merged(float[][][] coef) {
        float[][] out = new float[layout.size()][];
        for (int t = 0; t < layout.size(); t++) {
            int cols = layout.cols()[t];
            float[] acc = new float[Math.toIntExact(layout.elements(t))];
            for (int m = 0; m < models(); m++) {
                float[] x = sources.get(m)[t], c = coef[t][m];
                for (int i = 0; i < acc.length; i++) acc[i] = acc[i] + c[i % cols] * x[i];
            }
            out[t] = acc;
        }
        return out;
    }

    /**
     * The KL part of the loss at temperature {@code temp} (mean per position, times T²) and, when
     * {@code gradient}, its gradient with respect to the coefficients.
     */
    Value evaluate(float[][][] coef, List<Targets> data, double temp, boolean gradient, ExecutorService pool) {
        return evaluate(merged(coef), data, temp, gradient, pool);
    }

    /** As {@link #evaluate(float[][][], List, double, boolean, ExecutorService)} for given merged weights. */
    Value evaluate(float[][] mergedWeights, List<Targets> data, double temp, boolean gradient, ExecutorService pool) {
        Llama net = new Llama(layout, mergedWeights, maxLen);
        long positions = 0;
        for (Targets d : data) positions += d.tokens().length;
        double scale = temp * temp / positions;
        List<Future<Value>> futures = new ArrayList<>();
        for (int from = 0; from < data.size(); from += BLOCK) {
            List<Targets> block = data.subList(from, Math.min(data.size(), from + BLOCK));
            futures.add(pool.submit(() -> block(net, block, temp, scale, gradient)));
        }
        double kl = 0;
        double[] perModel = new double[models()];
        double[][][] grad = gradient ? zeros() : null;
        for (Value v : join(futures)) {
            kl += v.kl();
            for (int m = 0; m < models(); m++) perModel[m] += v.klPerModel()[m];
            if (gradient) {
                for (int t = 0; t < grad.length; t++) {
                    for (int m = 0; m < models(); m++) {
                        double[] g = grad[t][m], b = v.grad()[t][m];
                        for (int i = 0; i < g.length; i++) g[i] += b[i];
                    }
                }
            }
        }
        return new Value(kl, perModel, grad);
    }

    private Value block(Llama net, List<Targets> block, double temp, double scale, boolean gradient) {
        int vocab = layout.config().vocab(), models = models();
        float[][] dw = null;
        if (gradient) {
            dw = new float[layout.size()][];
            for (int t = 0; t < dw.length; t++) dw[t] = new float[Math.toIntExact(layout.elements(t))];
        }
        double kl = 0;
        double[] perModel = new double[models];
        double[] q = new double[vocab];
        for (Targets d : block) {
            int[] tok = d.tokens();
            Llama.Trace tr = gradient ? net.newTrace() : null;
            float[] z = net.forward(tok, tr);
            float[] dz = gradient ? new float[z.length] : null;
            for (int t = 0; t < tok.length; t++) {
                int off = t * vocab;
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, z[off + v] / temp);
                double sum = 0;
                for (int v = 0; v < vocab; v++) sum += StrictMath.exp(z[off + v] / temp - max);
                double logSum = StrictMath.log(sum);
                // KL(p‖q) = Σ p·log p − Σ p·log q; ∂/∂z of T²·KL is T·(q − p)
                for (int v = 0; v < vocab; v++) q[v] = z[off + v] / temp - max - logSum;
                for (int m = 0; m < models; m++) {
                    float[] p = d.p()[m];
                    double cross = 0;
                    for (int v = 0; v < vocab; v++) cross += p[off + v] * q[v];
                    double k = (d.plogp()[m][t] - cross) * scale;
                    perModel[m] += k;
                    kl += k;
                }
                if (gradient) {
                    for (int v = 0; v < vocab; v++) {
                        double qv = StrictMath.exp(q[v]), ps = 0;
                        for (int m = 0; m < models; m++) ps += d.p()[m][off + v];
                        dz[off + v] = (float) (scale / temp * (models * qv - ps));
                    }
                }
            }
            if (gradient) net.backward(tok, tr, dz, dw);
        }
        return new Value(kl, perModel, gradient ? coefficientGradient(dw) : null);
    }

    /** ∂L/∂coef[m][c] = Σᵣ ∂L/∂W[r, c] · Wₘ[r, c]. */
    private double[][][] coefficientGradient(float[][] dw) {
        double[][][] g = zeros();
        for (int t = 0; t < layout.size(); t++) {
            int cols = layout.cols()[t], rows = layout.rows()[t];
            for (int m = 0; m < models(); m++) {
                float[] x = sources.get(m)[t];
                double[] gm = g[t][m];
                for (int r = 0; r < rows; r++) {
                    int o = r * cols;
                    for (int c = 0; c < cols; c++) gm[c] += (double) dw[t][o + c] * x[o + c];
                }
            }
        }
        return g;
    }

    double[][][] zeros() {
        double[][][] g = new double[layout.size()][models()][];
        for (int t = 0; t < layout.size(); t++) {
            for (int m = 0; m < models(); m++) g[t][m] = new double[layout.cols()[t]];
        }
        return g;
    }

    static <T> List<T> join(List<Future<T>> futures) {
        List<T> out = new ArrayList<>();
        try {
            for (Future<T> f : futures) out.add(f.get());
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
        return out;
    }
}
