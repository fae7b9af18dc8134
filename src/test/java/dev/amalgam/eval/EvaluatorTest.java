package dev.amalgam.eval;

import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.safetensors.SafetensorsFile;
import dev.amalgam.safetensors.Tensor;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The metrics against values computed from the PyTorch reference logits of forward-reference/. */
class EvaluatorTest {
    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(EvaluatorTest.class.getResource("/forward-reference/" + name).toURI());
    }

    /** log softmax in double of row t of a [T, V] logits array. */
    private static double[] logSoftmax(float[] z, int t, int v) {
        float[] row = java.util.Arrays.copyOfRange(z, t * v, (t + 1) * v);
        double[] out = new double[v];
        Evaluator.logSoftmax(row, out);
        return out;
    }

    @Test
    void perplexityKlAndAgreementMatchTheReferenceLogits() throws Exception {
        Path model = fixture("llama-bf16"), ref = fixture("llama-dynamic");
        List<int[]> seqs = dev.amalgam.model.TokenFile.read(model.resolve("tokens.txt"), 96);
        double nll = 0, kl = 0;
        long predicted = 0, positions = 0, agree = 0;
        try (SafetensorsFile a = SafetensorsFile.open(model.resolve("expected.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(ref.resolve("expected.safetensors"))) {
            for (int s = 0; s < seqs.size(); s++) {
                int[] tok = seqs.get(s);
                float[] za = load(a.tensor("logits." + s), tok.length * 96), zb = load(b.tensor("logits." + s), tok.length * 96);
                for (int t = 0; t < tok.length; t++) {
                    double[] la = logSoftmax(za, t, 96), lb = logSoftmax(zb, t, 96);
                    if (t + 1 < tok.length) {
                        nll -= la[tok[t + 1]];
                        predicted++;
                    }
                    for (int i = 0; i < 96; i++) kl += Math.exp(lb[i]) * (lb[i] - la[i]);
                    if (argmax(la) == argmax(lb)) agree++;
                    positions++;
                }
            }
        }
        EvalResult r = Evaluator.run(new Evaluator.Request(model, List.of(ref), model.resolve("tokens.txt"), 32, 2), null);
        assertEquals(predicted, r.predicted());
        assertEquals(positions, r.tokens());
        assertEquals(2, r.windows());
        assertEquals(Math.exp(nll / predicted), r.perplexity(), 1e-5 * r.perplexity());
        assertEquals(kl / positions, r.references().getFirst().kl(), 1e-5);
        assertEquals(agree / (double) positions, r.references().getFirst().top1Agreement());
        assertEquals(0.0, r.nonFiniteFraction());
        assertTrue(r.tokensPerSecond() > 0);
        assertTrue(r.dataDigest().matches("sha256:[0-9a-f]{64}"));
    }

    @Test
    void metricsDoNotDependOnThreadsOrWindowing() throws Exception {
        Path model = fixture("qwen2-yarn-tied");
        var one = Evaluator.run(new Evaluator.Request(model, List.of(model), model.resolve("tokens.txt"), 6, 1), null);
        var two = Evaluator.run(new Evaluator.Request(model, List.of(model), model.resolve("tokens.txt"), 6, 2), null);
        assertEquals(one.perplexity(), two.perplexity());
        assertEquals(4, one.windows()); // 14 tokens as 6 + 6 + 2, and 5
        assertEquals(0.0, one.references().getFirst().kl(), 1e-12);
        assertEquals(1.0, one.references().getFirst().top1Agreement());
    }

    @Test
    void nonFiniteLogitsPropagateAndArgmaxSkipsNaN() {
        double[] out = new double[3];
        Evaluator.logSoftmax(new float[]{1f, Float.NaN, 2f}, out);
        assertTrue(Double.isNaN(out[0]), "a NaN logit is never dropped silently");
        assertEquals(2, Evaluator.argmax(new float[]{Float.NaN, 1f, 3f}));
        assertEquals(0, Evaluator.argmax(new float[]{5f, 5f, 1f}));
    }

    private static float[] load(Tensor t, int n) {
        float[] f = new float[n];
        Kernels.get().load(t.data(), t.dtype(), 0, f, n);
        return f;
    }

    private static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
