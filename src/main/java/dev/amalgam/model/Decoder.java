package dev.amalgam.model;

import dev.amalgam.merge.kernel.Kernels;

import java.util.Arrays;

/**
 * The forward pass of a llama-family decoder at batch 1, one token after another with a key/value
 * cache, in F32, as Hugging Face transformers defines it: embedding; per layer RMSNorm, q/k/v
 * projections (with biases where the config has them), rotary embedding (rotate-half, scaled as
 * {@link RopeScaling} says), causal grouped-query attention, output projection, residual,
 * RMSNorm, gated MLP with the config's activation, residual; final RMSNorm and the output head
 * (the embedding when tied). Deterministic: the same bits for any thread count and vector width.
 *
 * <p>A window starts with {@link #begin(int)}, which clears the cache and fixes the rotary table
 * for a forward call over that many positions (dynamic NTK scaling depends on it, as in the
 * reference, which recomputes it per call).
 */
public final class Decoder {
    private final ModelWeights w;
    private final ModelConfig c;
    private final RowPool pool;
    private final int maxLen;
    private final float[][] keys, values;
    private final float[] x, xn, q, k, v, att, ao, tmp, g, u, logits, scores;
    private float[] cos, sin;
    private int pos, length;

    public Decoder(ModelWeights weights, RowPool pool, int maxLen) {
        this.w = weights;
        this.c = weights.config();
        this.pool = pool;
        this.maxLen = maxLen;
        if (c.slidingWindow() != null && maxLen > c.slidingWindow()) {
            throw new IllegalArgumentException("sequences of " + maxLen + " tokens are longer than the model's sliding_window "
                    + c.slidingWindow() + ", which is not implemented: use a sequence length of at most " + c.slidingWindow());
        }
        int h = c.hidden(), kv = c.kvDim();
        keys = new float[c.layers()][(long) maxLen * kv > Integer.MAX_VALUE ? fail() : maxLen * kv];
        values = new float[c.layers()][maxLen * kv];
        x = new float[h];
        xn = new float[h];
        q = new float[c.qDim()];
        k = new float[kv];
        v = new float[kv];
        att = new float[c.qDim()];
        ao = new float[h];
        tmp = new float[h];
        g = new float[c.intermediate()];
        u = new float[c.intermediate()];
        logits = new float[c.vocab()];
        scores = new float[maxLen];
    }

    private static int fail() {
        throw new IllegalArgumentException("the key/value cache would exceed 2^31 floats per layer: use a shorter sequence length");
    }

    public ModelConfig config() {
        return c;
    }

    /** Starts a window of {@code length} positions: clears the cache and builds the rotary table. */
    public void begin(int length) {
        if (length < 1 || length > maxLen) throw new IllegalArgumentException("window of " + length + " tokens, not in [1, " + maxLen + "]");
        this.length = length;
        this.pos = 0;
        int d = c.headDim(), half = d / 2;
        float[] inv = c.ropeScaling().inverseFrequencies(d, c.ropeTheta(), c.maxPositions() == null ? 0 : c.maxPositions(), length);
        float scale = (float) c.ropeScaling().attentionScaling();
        cos = new float[length * half];
        sin = new float[length * half];
        for (int p = 0; p < length; p++) {
            for (int i = 0; i < half; i++) {
                // the reference multiplies F32 frequencies by F32 positions, then takes cos and sin
                float angle = (float) p * inv[i];
                cos[p * half + i] = (float) StrictMath.cos(angle) * scale;
                sin[p * half + i] = (float) StrictMath.sin(angle) * scale;
            }
        }
    }

    /** Feeds the next token of the window; returns the logits for the position after it (a buffer reused by the next call). */
    public float[] next(int token) {
        if (pos >= length) throw new IllegalStateException("window of " + length + " tokens is full");
        if (token < 0 || token >= c.vocab()) throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + c.vocab() + ")");
        int h = c.hidden(), kv = c.kvDim(), d = c.headDim();
        ModelWeights.Matrix e = w.embed();
        Kernels.get().load(e.data(), e.dtype(), (long) token * h, x, h);
        for (int l = 0; l < c.layers(); l++) {
            ModelWeights.Layer L = w.layers().get(l);
            rmsNorm(x, L.inputNorm(), xn);
            pool.multiply(L.q(), xn, q, L.qBias());
            pool.multiply(L.k(), xn, k, L.kBias());
            pool.multiply(L.v(), xn, v, L.vBias());
            rope(q, c.heads());
            rope(k, c.kvHeads());
            System.arraycopy(k, 0, keys[l], pos * kv, kv);
            System.arraycopy(v, 0, values[l], pos * kv, kv);
            attention(keys[l], values[l]);
            pool.multiply(L.o(), att, ao, L.oBias());
            for (int i = 0; i < h; i++) x[i] = x[i] + ao[i];
            rmsNorm(x, L.postNorm(), xn);
            pool.multiply(L.gate(), xn, g, L.gateBias());
            pool.multiply(L.up(), xn, u, L.upBias());
            for (int i = 0; i < g.length; i++) g[i] = c.activation().apply(g[i]) * u[i];
            pool.multiply(L.down(), g, tmp, L.downBias());
            for (int i = 0; i < h; i++) x[i] = x[i] + tmp[i];
        }
        rmsNorm(x, w.finalNorm(), xn);
        pool.multiply(w.head(), xn, logits, null);
        pos++;
        return logits;
    }

    /** y = x / √(mean(x²) + eps) · weight, the mean in double. */
    private void rmsNorm(float[] in, float[] weight, float[] out) {
        double ss = 0;
        for (float f : in) ss += (double) f * f;
        float r = (float) (1.0 / Math.sqrt(ss / in.length + c.rmsNormEps()));
        for (int i = 0; i < in.length; i++) out[i] = weight[i] * (in[i] * r);
    }

    /** Rotate-half rotary embedding of every head at the current position. */
    private void rope(float[] t, int heads) {
        int d = c.headDim(), half = d / 2, o = pos * half;
        for (int hd = 0; hd < heads; hd++) {
            int b = hd * d;
            for (int i = 0; i < half; i++) {
                float a = t[b + i], bb = t[b + half + i];
                t[b + i] = a * cos[o + i] - bb * sin[o + i];
                t[b + half + i] = bb * cos[o + i] + a * sin[o + i];
            }
        }
    }

    /** Causal attention of the current query over cached positions [0, pos], grouped key/value heads. */
    private void attention(float[] kc, float[] vc) {
        int d = c.headDim(), kv = c.kvDim(), group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(d));
        Arrays.fill(att, 0f);
        for (int hd = 0; hd < c.heads(); hd++) {
            int qo = hd * d, ko = (hd / group) * d;
            float max = Float.NEGATIVE_INFINITY;
            for (int s = 0; s <= pos; s++) {
                float dot = 0f;
                for (int j = 0; j < d; j++) dot = dot + q[qo + j] * kc[s * kv + ko + j];
                scores[s] = dot * scale;
                max = Math.max(max, scores[s]);
            }
            double sum = 0;
            for (int s = 0; s <= pos; s++) {
                scores[s] = (float) StrictMath.exp(scores[s] - max);
                sum += scores[s];
            }
            float inv = (float) (1.0 / sum);
            for (int s = 0; s <= pos; s++) {
                float a = scores[s] * inv;
                for (int j = 0; j < d; j++) att[qo + j] = att[qo + j] + a * vc[s * kv + ko + j];
            }
        }
    }
}
