package dev.amalgam.eval;

import dev.amalgam.model.Decoder;
import dev.amalgam.model.ModelWeights;
import dev.amalgam.model.RowPool;
import dev.amalgam.model.TokenFile;
import dev.amalgam.model.kernel.MatVecs;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a model (and reference models beside it) over evaluation data window by window and
 * measures {@link EvalResult}'s metrics. Sums over positions run in a fixed order in double, so
 * the metrics are the same for any thread count.
 */
public final class Evaluator {
    /** Called after each window. */
    public interface Progress {
        void window(int done, int total, long tokensDone, long tokensTotal, double tokensPerSecond);
    }

    /** What to evaluate. */
    public record Request(Path model, List<Path> references, Path data, int seqLen, int threads) {
        public Request {
            references = List.copyOf(references);
            if (seqLen < 2) throw new IllegalArgumentException("--seq-len must be at least 2 (a window predicts its next tokens)");
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1");
        }
    }

    private Evaluator() {
    }

    public static EvalResult run(Request req, Progress progress) throws IOException {
        List<ModelWeights> opened = new ArrayList<>();
        try (RowPool pool = new RowPool(req.threads(), MatVecs.get())) {
            ModelWeights model = open(req.model(), opened);
            int vocab = model.config().vocab();
            List<ModelWeights> refs = new ArrayList<>();
            for (Path r : req.references()) {
                ModelWeights w = open(r, opened);
                if (w.config().vocab() != vocab) {
                    throw new IllegalArgumentException(r + ": vocab_size " + w.config().vocab() + " differs from the model's "
                            + vocab + " (KL and top-1 agreement compare the same vocabulary)");
                }
                refs.add(w);
            }
            EvalData data = EvalData.read(req.data(), vocab);
            List<int[]> windows = TokenFile.windows(data.sequences(), req.seqLen());
            long predictedTotal = 0, tokensTotal = 0;
            int longest = 0;
            for (int[] w : windows) {
                predictedTotal += w.length - 1;
                tokensTotal += w.length;
                longest = Math.max(longest, w.length);
            }
            if (predictedTotal == 0) {
                throw new TokenFile.BadTokenFile(req.data() + ": no position to predict (every sequence has a single token)");
            }
            Decoder md = new Decoder(model, pool, longest);
            List<Decoder> rd = new ArrayList<>();
            for (ModelWeights w : refs) rd.add(new Decoder(w, pool, longest));
            double nll = 0;
            long nonFinite = 0, logits = 0, tokensDone = 0, nanos = 0;
            double[] kl = new double[refs.size()];
            long[] agree = new long[refs.size()];
            double[] logp = new double[vocab];
            for (int wi = 0; wi < windows.size(); wi++) {
                int[] tok = windows.get(wi);
                md.begin(tok.length);
                for (Decoder d : rd) d.begin(tok.length);
                for (int t = 0; t < tok.length; t++) {
                    long t0 = System.nanoTime();
                    float[] z = md.next(tok[t]);
                    nanos += System.nanoTime() - t0;
                    for (float f : z) if (!Float.isFinite(f)) nonFinite++;
                    logits += z.length;
                    logSoftmax(z, logp);
                    if (t + 1 < tok.length) nll -= logp[tok[t + 1]];
                    int top = argmax(z);
                    for (int r = 0; r < rd.size(); r++) {
                        float[] zr = rd.get(r).next(tok[t]);
                        kl[r] += kl(zr, logp);
                        if (argmax(zr) == top) agree[r]++;
                    }
                }
                tokensDone += tok.length;
                if (progress != null) progress.window(wi + 1, windows.size(), tokensDone, tokensTotal, tokensDone / (nanos / 1e9));
            }
            List<EvalResult.Reference> out = new ArrayList<>();
            for (int r = 0; r < refs.size(); r++) {
                out.add(new EvalResult.Reference(req.references().get(r).toString(), Math.max(0, kl[r] / tokensTotal),
                        agree[r] / (double) tokensTotal));
            }
            double mean = nll / predictedTotal;
            return new EvalResult(data.digest(), tokensTotal, windows.size(), predictedTotal, StrictMath.exp(mean), mean,
                    nonFinite / (double) logits, tokensTotal / (nanos / 1e9), out,
                    new EvalResult.Settings(req.seqLen(), req.threads(), pool.kernel().name()));
        } finally {
            for (ModelWeights w : opened) w.close();
        }
    }

    private static ModelWeights open(Path dir, List<ModelWeights> opened) throws IOException {
        ModelWeights w = ModelWeights.open(dir);
        opened.add(w);
        return w;
    }

    /** out = log softmax(z) in double; any non-finite logit makes the row NaN (never silently dropped). */
    static void logSoftmax(float[] z, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (float f : z) max = Math.max(max, f);
        double sum = 0;
        for (float f : z) sum += StrictMath.exp(f - max);
        double lse = max + StrictMath.log(sum);
        for (int i = 0; i < z.length; i++) out[i] = z[i] - lse;
    }

    /** KL(softmax(zr) ‖ p) with p given as log-probabilities. */
    static double kl(float[] zr, double[] logp) {
        double[] lr = new double[zr.length];
        logSoftmax(zr, lr);
        double s = 0;
        for (int i = 0; i < lr.length; i++) {
            double p = StrictMath.exp(lr[i]);
            if (p > 0) s += p * (lr[i] - logp[i]);
        }
        return s;
    }

    /** Index of the largest logit, the first of equals (NaN never wins). */
    static int argmax(float[] z) {
        int best = 0;
        for (int i = 1; i < z.length; i++) if (z[i] > z[best] || Float.isNaN(z[best])) best = i;
        return best;
    }
}
