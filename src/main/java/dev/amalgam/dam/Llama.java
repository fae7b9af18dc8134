package dev.amalgam.dam;

import java.util.Arrays;

import static dev.amalgam.dam.Layout.DOWN;
import static dev.amalgam.dam.Layout.EMBED;
import static dev.amalgam.dam.Layout.GATE;
import static dev.amalgam.dam.Layout.IN_NORM;
import static dev.amalgam.dam.Layout.K;
import static dev.amalgam.dam.Layout.O;
import static dev.amalgam.dam.Layout.POST_NORM;
import static dev.amalgam.dam.Layout.Q;
import static dev.amalgam.dam.Layout.UP;
import static dev.amalgam.dam.Layout.V;

/**
 * A llama-style decoder in F32 on the CPU, as Hugging Face's {@code LlamaForCausalLM} computes it:
 * token embedding; per layer RMSNorm, attention with rotary position embedding (rotate-half
 * convention), causal mask and grouped key/value heads, residual, RMSNorm, SwiGLU MLP, residual;
 * final RMSNorm and the output head. The backward pass gives the gradient of a loss with respect
 * to every weight from the gradient with respect to the logits (the weights themselves stay
 * fixed; DAM turns these into coefficient gradients).
 *
 * <p>Deterministic: every sum runs in a fixed order, products are never fused, transcendental
 * functions come from {@link StrictMath}, so the same inputs give the same bits on any machine.
 * Matrix products are written as row updates ({@code y += a·w}) that the JIT vectorises without
 * changing a result.
 */
public final class Llama {
    private final LlamaConfig c;
    private final Layout layout;
    private final float[][] w;
    private final float[][] wt;
    private final float[] cos, sin;

    /** Per-sequence activations the backward pass needs. */
    public static final class Trace {
        final float[][] x0, n1, r1, q, k, v, att, ao, x1, n2, r2, g, u, act;
        float[] xL, nf, rf;

        Trace(int layers) {
            x0 = new float[layers][];
            n1 = new float[layers][];
            r1 = new float[layers][];
            q = new float[layers][];
            k = new float[layers][];
            v = new float[layers][];
            att = new float[layers][];
            ao = new float[layers][];
            x1 = new float[layers][];
            n2 = new float[layers][];
            r2 = new float[layers][];
            g = new float[layers][];
            u = new float[layers][];
            act = new float[layers][];
        }
    }

    /** {@code weights} indexed as the layout; sequences up to {@code maxLen} tokens. */
    public Llama(Layout layout, float[][] weights, int maxLen) {
        this.c = layout.config();
        this.layout = layout;
        this.w = weights;
        this.wt = new float[weights.length][];
        for (int t = 0; t < weights.length; t++) {
            if (!layout.isVector(t) && (t != EMBED || t == layout.head())) {
                wt[t] = transpose(weights[t], layout.rows()[t], layout.cols()[t]);
            }
        }
        int half = c.headDim() / 2;
        cos = new float[maxLen * half];
        sin = new float[maxLen * half];
        for (int p = 0; p < maxLen; p++) {
            for (int i = 0; i < half; i++) {
                double freq = 1.0 / StrictMath.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
                double angle = p * freq;
                cos[p * half + i] = (float) StrictMath.cos(angle);
                sin[p * half + i] = (float) StrictMath.sin(angle);
            }
        }
    }

    public Trace newTrace() {
        return new Trace(c.layers());
    }

    public int maxLen() {
        return cos.length / (c.headDim() / 2);
    }

    /** Logits [T, vocab] of a token sequence; fills {@code tr} (may be null) for {@link #backward}. */
    public float[] forward(int[] tok, Trace tr) {
        int n = tok.length, h = c.hidden(), kv = c.kvDim(), im = c.intermediate();
        if (n > maxLen()) throw new IllegalArgumentException("sequence of " + n + " tokens, longer than " + maxLen());
        float[] x = new float[n * h];
        for (int t = 0; t < n; t++) System.arraycopy(w[EMBED], tok[t] * h, x, t * h, h);
        for (int l = 0; l < c.layers(); l++) {
            int b = layout.layer(l);
            float[] r1 = new float[n], n1 = rmsNorm(x, n, w[b + IN_NORM], r1);
            float[] q = new float[n * h], k = new float[n * kv], v = new float[n * kv];
            linear(n1, n, h, wt[b + Q], h, q);
            linear(n1, n, h, wt[b + K], kv, k);
            linear(n1, n, h, wt[b + V], kv, v);
            rope(q, n, c.heads(), false);
            rope(k, n, c.kvHeads(), false);
            float[] att = new float[c.heads() * n * n], ao = new float[n * h];
            attention(q, k, v, n, att, ao);
            float[] x1 = new float[n * h];
            linear(ao, n, h, wt[b + O], h, x1);
            for (int i = 0; i < x1.length; i++) x1[i] = x[i] + x1[i];
            float[] r2 = new float[n], n2 = rmsNorm(x1, n, w[b + POST_NORM], r2);
            float[] g = new float[n * im], u = new float[n * im], act = new float[n * im];
            linear(n2, n, h, wt[b + GATE], im, g);
            linear(n2, n, h, wt[b + UP], im, u);
            for (int i = 0; i < act.length; i++) act[i] = silu(g[i]) * u[i];
            float[] x2 = new float[n * h];
            linear(act, n, im, wt[b + DOWN], h, x2);
            for (int i = 0; i < x2.length; i++) x2[i] = x1[i] + x2[i];
            if (tr != null) {
                tr.x0[l] = x;
                tr.n1[l] = n1;
                tr.r1[l] = r1;
                tr.q[l] = q;
                tr.k[l] = k;
                tr.v[l] = v;
                tr.att[l] = att;
                tr.ao[l] = ao;
                tr.x1[l] = x1;
                tr.n2[l] = n2;
                tr.r2[l] = r2;
                tr.g[l] = g;
                tr.u[l] = u;
                tr.act[l] = act;
            }
            x = x2;
        }
        float[] rf = new float[n], nf = rmsNorm(x, n, w[layout.finalNorm()], rf);
        float[] logits = new float[n * c.vocab()];
        linear(nf, n, h, wt[layout.head()], c.vocab(), logits);
        if (tr != null) {
            tr.xL = x;
            tr.nf = nf;
            tr.rf = rf;
        }
        return logits;
    }

    /**
     * Adds to {@code dw} (indexed as the layout, each the size of its weight) the gradient of the
     * loss with respect to every weight, given {@code dlogits} = ∂loss/∂logits of a sequence whose
     * forward pass filled {@code tr}.
     */
    public void backward(int[] tok, Trace tr, float[] dlogits, float[][] dw) {
        int n = tok.length, h = c.hidden(), kv = c.kvDim(), im = c.intermediate(), head = layout.head();
        float[] dnf = new float[n * h];
        backX(dlogits, n, c.vocab(), w[head], h, dnf);
        backW(dlogits, n, c.vocab(), tr.nf, h, dw[head]);
        float[] dx = new float[n * h];
        rmsNormBack(tr.xL, tr.rf, w[layout.finalNorm()], dnf, n, dx, dw[layout.finalNorm()]);
        for (int l = c.layers() - 1; l >= 0; l--) {
            int b = layout.layer(l);
            // MLP: x2 = x1 + down(silu(gate n2) * up n2), dx holds ∂/∂x2
            float[] dact = new float[n * im];
            backX(dx, n, h, w[b + DOWN], im, dact);
            backW(dx, n, h, tr.act[l], im, dw[b + DOWN]);
            float[] dg = new float[n * im], du = new float[n * im];
            for (int i = 0; i < dg.length; i++) {
                float g = tr.g[l][i], s = sigmoid(g);
                du[i] = dact[i] * (g * s);
                dg[i] = dact[i] * tr.u[l][i] * (s * (1f + g * (1f - s)));
            }
            float[] dn2 = new float[n * h];
            backX(dg, n, im, w[b + GATE], h, dn2);
            backX(du, n, im, w[b + UP], h, dn2);
            backW(dg, n, im, tr.n2[l], h, dw[b + GATE]);
            backW(du, n, im, tr.n2[l], h, dw[b + UP]);
            rmsNormBack(tr.x1[l], tr.r2[l], w[b + POST_NORM], dn2, n, dx, dw[b + POST_NORM]);
            // attention: x1 = x0 + o(attention(rope(q n1), rope(k n1), v n1)), dx holds ∂/∂x1
            float[] dao = new float[n * h];
            backX(dx, n, h, w[b + O], h, dao);
            backW(dx, n, h, tr.ao[l], h, dw[b + O]);
            float[] dq = new float[n * h], dk = new float[n * kv], dv = new float[n * kv];
            attentionBack(tr.q[l], tr.k[l], tr.v[l], tr.att[l], dao, n, dq, dk, dv);
            rope(dq, n, c.heads(), true);
            rope(dk, n, c.kvHeads(), true);
            float[] dn1 = new float[n * h];
            backX(dq, n, h, w[b + Q], h, dn1);
            backX(dk, n, kv, w[b + K], h, dn1);
            backX(dv, n, kv, w[b + V], h, dn1);
            backW(dq, n, h, tr.n1[l], h, dw[b + Q]);
            backW(dk, n, kv, tr.n1[l], h, dw[b + K]);
            backW(dv, n, kv, tr.n1[l], h, dw[b + V]);
            rmsNormBack(tr.x0[l], tr.r1[l], w[b + IN_NORM], dn1, n, dx, dw[b + IN_NORM]);
        }
        float[] de = dw[EMBED];
        for (int t = 0; t < n; t++) {
            int row = tok[t] * h;
            for (int j = 0; j < h; j++) de[row + j] = de[row + j] + dx[t * h + j];
        }
    }

    /** y[t, o] = Σᵢ x[t, i]·W[o, i] with {@code wt} = Wᵀ [in, out], summed in i order. */
    static void linear(float[] x, int n, int in, float[] wt, int out, float[] y) {
        for (int t = 0; t < n; t++) {
            int yo = t * out;
            Arrays.fill(y, yo, yo + out, 0f);
            for (int i = 0; i < in; i++) {
                float a = x[t * in + i];
                int wo = i * out;
                for (int o = 0; o < out; o++) y[yo + o] = y[yo + o] + a * wt[wo + o];
            }
        }
    }

    /** dx[t, i] += Σₒ dy[t, o]·W[o, i] (W is [out, in]). */
    static void backX(float[] dy, int n, int out, float[] w, int in, float[] dx) {
        for (int t = 0; t < n; t++) {
            int xo = t * in;
            for (int o = 0; o < out; o++) {
                float a = dy[t * out + o];
                int wo = o * in;
                for (int i = 0; i < in; i++) dx[xo + i] = dx[xo + i] + a * w[wo + i];
            }
        }
    }

    /** dW[o, i] += Σₜ dy[t, o]·x[t, i]. */
    static void backW(float[] dy, int n, int out, float[] x, int in, float[] dw) {
        for (int t = 0; t < n; t++) {
            int xo = t * in;
            for (int o = 0; o < out; o++) {
                float a = dy[t * out + o];
                int wo = o * in;
                for (int i = 0; i < in; i++) dw[wo + i] = dw[wo + i] + a * x[xo + i];
            }
        }
    }

    /** y = x · r · w per row, with r = 1/√(mean(x²) + eps) stored in {@code r}. */
    private float[] rmsNorm(float[] x, int n, float[] weight, float[] r) {
        int h = c.hidden();
        float[] y = new float[x.length];
        for (int t = 0; t < n; t++) {
            double ss = 0;
            for (int j = 0; j < h; j++) ss += (double) x[t * h + j] * x[t * h + j];
            r[t] = (float) (1.0 / Math.sqrt(ss / h + c.rmsNormEps()));
            for (int j = 0; j < h; j++) y[t * h + j] = x[t * h + j] * r[t] * weight[j];
        }
        return y;
    }

    private void rmsNormBack(float[] x, float[] r, float[] weight, float[] dy, int n, float[] dx, float[] dweight) {
        int h = c.hidden();
        for (int t = 0; t < n; t++) {
            double s = 0;
            for (int j = 0; j < h; j++) s += (double) dy[t * h + j] * weight[j] * x[t * h + j];
            float rt = r[t];
            float coef = (float) ((double) rt * rt * rt * s / h);
            for (int j = 0; j < h; j++) {
                int i = t * h + j;
                dweight[j] = dweight[j] + dy[i] * x[i] * rt;
                dx[i] = dx[i] + (rt * (dy[i] * weight[j]) - coef * x[i]);
            }
        }
    }

    /**
     * Rotary position embedding in place, rotate-half convention: element i and i + d/2 of each
     * head rotate by position·θ^(−2i/d); {@code inverse} rotates back (the transpose, for gradients).
     */
    private void rope(float[] x, int n, int heads, boolean inverse) {
        int d = c.headDim(), half = d / 2;
        for (int t = 0; t < n; t++) {
            for (int hd = 0; hd < heads; hd++) {
                int o = (t * heads + hd) * d;
                for (int i = 0; i < half; i++) {
                    float cs = cos[t * half + i], sn = inverse ? -sin[t * half + i] : sin[t * half + i];
                    float a = x[o + i], b = x[o + half + i];
                    x[o + i] = a * cs - b * sn;
                    x[o + half + i] = b * cs + a * sn;
                }
            }
        }
    }

    private void attention(float[] q, float[] k, float[] v, int n, float[] att, float[] out) {
        int d = c.headDim(), h = c.hidden(), kv = c.kvDim(), group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(d));
        for (int hd = 0; hd < c.heads(); hd++) {
            int kvo = (hd / group) * d;
            for (int t = 0; t < n; t++) {
                int ao = (hd * n + t) * n, qo = t * h + hd * d;
                float max = Float.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    float dot = 0f;
                    for (int j = 0; j < d; j++) dot = dot + q[qo + j] * k[s * kv + kvo + j];
                    att[ao + s] = dot * scale;
                    max = Math.max(max, att[ao + s]);
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    att[ao + s] = (float) StrictMath.exp(att[ao + s] - max);
                    sum += att[ao + s];
                }
                float inv = (float) (1.0 / sum);
                for (int s = 0; s <= t; s++) {
                    att[ao + s] = att[ao + s] * inv;
                    float a = att[ao + s];
                    for (int j = 0; j < d; j++) out[qo + j] = out[qo + j] + a * v[s * kv + kvo + j];
                }
            }
        }
    }

    private void attentionBack(float[] q, float[] k, float[] v, float[] att, float[] dout, int n,
                               float[] dq, float[] dk, float[] dv) {
        int d = c.headDim(), h = c.hidden(), kv = c.kvDim(), group = c.heads() / c.kvHeads();
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] datt = new float[n];
        for (int hd = 0; hd < c.heads(); hd++) {
            int kvo = (hd / group) * d;
            for (int t = 0; t < n; t++) {
                int ao = (hd * n + t) * n, qo = t * h + hd * d;
                double dot = 0;
                for (int s = 0; s <= t; s++) {
                    float a = 0f;
                    for (int j = 0; j < d; j++) a = a + dout[qo + j] * v[s * kv + kvo + j];
                    datt[s] = a;
                    dot += (double) att[ao + s] * a;
                    float p = att[ao + s];
                    for (int j = 0; j < d; j++) dv[s * kv + kvo + j] = dv[s * kv + kvo + j] + p * dout[qo + j];
                }
                float fdot = (float) dot;
                for (int s = 0; s <= t; s++) {
                    float ds = att[ao + s] * (datt[s] - fdot) * scale;
                    for (int j = 0; j < d; j++) {
                        dq[qo + j] = dq[qo + j] + ds * k[s * kv + kvo + j];
                        dk[s * kv + kvo + j] = dk[s * kv + kvo + j] + ds * q[qo + j];
                    }
                }
            }
        }
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + StrictMath.exp(-x)));
    }

    static float silu(float x) {
        return x * sigmoid(x);
    }

    static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < cols; col++) t[col * rows + r] = m[r * cols + col];
        }
        return t;
    }
}
