package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.CounterRandom;
import dev.amalgam.merge.kernel.MagnitudeSelect;
import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.merge.kernel.RankBand;
import dev.amalgam.merge.kernel.SampledSelect;
import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.safetensors.DType;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * mergekit's "generalized task arithmetic": task vectors δᵢ = xᵢ − base are sparsified
 * (magnitude top-k, random drop, magnitude with outliers removed, or DELLA's random drop with
 * probabilities by magnitude rank), optionally rescaled to
 * keep their L1 norm, weighted, combined (summed, or summed over the TIES sign consensus),
 * optionally divided by the weights, scaled by λ and added to the base.
 *
 * <p>Streaming: selecting one magnitude rank (ties) over a large tensor takes one counting pass
 * over the task vector ({@link SampledSelect}; two radix passes when its sampled bracket misses,
 * and for breadcrumbs' two ranks or small tensors), an L1 rescale one more, then a final pass writes the output, each pass chunk by chunk in index
 * order (the tie rule and the reductions depend on that order, never on threads).
 */
final class TaskVectorMethod implements MergeMethod {
    enum Sparsify { NONE, MAGNITUDE, RANDOM, MAGNITUDE_OUTLIERS, DELLA }

    /**
     * One task-vector method as a configuration with named fields, as mergekit's registry
     * configures one generalised task-arithmetic class: {@code named("ties", url)
     * .sparsify(MAGNITUDE).signConsensus().normalizeByDefault()}.
     *
     * @param consensus sum only the task vectors that agree with the elected sign (TIES)
     * @param normalize the default of the {@code normalize} parameter
     * @param rescale the default of the {@code rescale} parameter
     */
    record Config(String name, String reference, Sparsify sparsify, boolean consensus,
                  boolean normalize, boolean rescale) {
        static Config named(String name, String reference) {
            return new Config(name, reference, Sparsify.NONE, false, false, false);
        }

        Config sparsify(Sparsify how) {
            return new Config(name, reference, how, consensus, normalize, rescale);
        }

        Config signConsensus() {
            return new Config(name, reference, sparsify, true, normalize, rescale);
        }

        Config normalizeByDefault() {
            return new Config(name, reference, sparsify, consensus, true, rescale);
        }

        Config rescaleByDefault() {
            return new Config(name, reference, sparsify, consensus, normalize, true);
        }
    }

    private final String name;
    private final String reference;
    private final boolean consensus;
    private final Sparsify sparsify;
    private final boolean defaultNormalize;
    private final boolean defaultRescale;

    TaskVectorMethod(Config config) {
        this.name = config.name();
        this.reference = config.reference();
        this.consensus = config.consensus();
        this.sparsify = config.sparsify();
        this.defaultNormalize = config.normalize();
        this.defaultRescale = config.rescale();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String reference() {
        return reference;
    }

    @Override
    public boolean needsBaseModel() {
        return true;
    }

    @Override
    public String determinism() {
        return switch (sparsify) {
            case NONE -> "elementwise, fixed input order";
            case RANDOM -> "counter-based randomness from random_seed + tensor name + input";
            case DELLA -> "ranks per row (ties: lowest index ranks higher), counter-based randomness from random_seed + tensor name + input";
            default -> "exact top-k, ties at the threshold: lowest index kept";
        };
    }

    /** Plain task arithmetic is elementwise; selection, dropout and rescaling are not. */
    @Override
    public boolean elementwise(java.util.Map<String, Object> globals) {
        return sparsify == Sparsify.NONE;
    }

    @Override
    public List<ParameterDef> parameters() {
        return List.of(
                ParameterDef.bool("int8_mask", false, "store the sign mask as int8 (memory only; no effect on the result here)"),
                ParameterDef.bool("normalize", defaultNormalize, "divide by the sum of (agreeing) weights"),
                ParameterDef.bool("rescale", defaultRescale, "rescale sparsified task vectors to their L1 norm"),
                ParameterDef.number("lambda", 1.0, "scale of the merged task vector"));
    }

    @Override
    public List<ParameterDef> tensorParameters() {
        List<ParameterDef> out = new ArrayList<>(List.of(
                ParameterDef.requiredNumber("weight", "weight of this model's task vector"),
                ParameterDef.number("density", 1.0, "fraction of the task vector kept").atLeast(0)));
        if (sparsify == Sparsify.MAGNITUDE_OUTLIERS) {
            out.add(ParameterDef.number("gamma", 0.01, "fraction of the largest magnitudes removed").between(0, 1));
        }
        if (sparsify == Sparsify.DELLA) {
            out.add(ParameterDef.number("epsilon", 0.15, "keep probabilities range over density ± epsilon by magnitude rank").atLeast(0));
        }
        return List.copyOf(out);
    }

    /** How one task vector is sparsified, prepared before the final pass. */
    private static final class Sparsifier {
        RankBand band;
        CounterRandom random;
        DellaPrune della;
        float density = 1f;
        float rescale = 1f;
        MagnitudeSelect select;
        /** The one rank's threshold found by {@link SampledSelect}, or null (radix select). */
        MagnitudeSelect.Threshold sampled;
        long[] ranks = new long[0];
        long from;
        long to;
    }

    @Override
    public void merge(TensorContext ctx) {
        int baseIdx = ctx.baseIndex();
        if (baseIdx < 0) throw ctx.fail(name + " needs a base_model");
        int m = ctx.size() - 1;
        if (m == 0 || ctx.elements() == 0) {
            new Passthrough().merge(ctx);
            return;
        }
        int[] idx = new int[m];
        for (int j = 0, o = 0; j < ctx.size(); j++) if (j != baseIdx) idx[o++] = j;
        long n = ctx.elements();
        float[] weights = new float[m];
        Sparsifier[] sp = new Sparsifier[m];
        boolean rescale = ctx.flag("rescale");
        for (int i = 0; i < m; i++) {
            weights[i] = (float) ctx.number(idx[i], "weight");
            sp[i] = prepare(ctx, idx[i], i, n);
        }
        int chunk = TensorContext.CHUNK;
        float[] base = new float[chunk];
        float[][] delta = new float[m][chunk];
        selectionPasses(ctx, idx, sp, base, delta[0]);
        if (rescale && sparsify != Sparsify.NONE) rescalePass(ctx, idx, sp, n, base, delta[0]);

        MergeKernels k = ctx.kernels();
        float[] mixed = new float[chunk], divisor = new float[chunk];
        boolean normalize = ctx.flag("normalize");
        float lambda = (float) ctx.number("lambda");
        float weightSum = 0f;
        for (float w : weights) weightSum = weightSum + w;
        if (Math.abs(weightSum) < 1e-8f) weightSum = 1f; // mergekit's guard against dividing by ~0
        if (!consensus) Arrays.fill(divisor, weightSum);
        for (int i = 0; i < m; i++) sp[i].band = makeBand(sp[i], n);
        if (plainSum(sp, ctx)) {
            // a whole window per call: the kernel needs no scratch, and windows and output fetched
            // once per window keep the input streams going (see Linear)
            MemorySegment[] xs = new MemorySegment[m];
            for (long from = 0; from < n; from += TensorContext.WINDOW) {
                int wlen = (int) Math.min(TensorContext.WINDOW, n - from);
                MemorySegment baseWindow = windows(ctx, idx, xs, from, wlen);
                k.taskSumStoreBf16(baseWindow, xs, m, 0, weights, normalize, weightSum, lambda,
                        ctx.reserve(from, wlen), 0, wlen);
                ctx.commit(from, wlen);
            }
            return;
        }
        if (fusedOutput(sp, ctx)) {
            fusedOutputPass(ctx, idx, sp, weights, normalize, lambda);
            return;
        }
        for (long c = 0; c < n; c += chunk) {
            int len = (int) Math.min(chunk, n - c);
            ctx.load(baseIdx, c, base, len);
            for (int i = 0; i < m; i++) {
                taskVector(ctx, idx[i], sp[i], c, base, delta[i], len);
                if (sp[i].rescale != 1f) k.scale(delta[i], sp[i].rescale, len);
                k.scale(delta[i], weights[i], len);
            }
            if (consensus) {
                k.tiesMix(delta, weights, m, mixed, divisor, len);
            } else {
                System.arraycopy(delta[0], 0, mixed, 0, len);
                for (int i = 1; i < m; i++) k.add(mixed, delta[i], mixed, len);
            }
            DType out = ctx.directDtype();
            if (out != null) {
                // divided, scaled, added to the base and narrowed in one pass into the output buffer
                k.finishStore(mixed, normalize ? divisor : null, lambda, base, ctx.reserve(c, len), out, 0, len);
                ctx.commit(c, len);
                continue;
            }
            if (normalize) k.divide(mixed, divisor, len);
            if (lambda != 1f) k.scale(mixed, lambda, len);
            k.add(base, mixed, mixed, len);
            ctx.emit(c, mixed, len);
        }
    }

    /** Task arithmetic over at most three BF16 task vectors into BF16: one {@link MergeKernels#taskSumStoreBf16} per chunk. */
    private boolean plainSum(Sparsifier[] sp, TensorContext ctx) {
        if (consensus || sparsify != Sparsify.NONE || sp.length > 3 || !allBf16(ctx)) return false;
        for (Sparsifier s : sp) if (s.rescale != 1f || s.to <= s.from) return false;
        return true;
    }

    /** Every input and the output are BF16: the fused kernels' case. */
    private static boolean allBf16(TensorContext ctx) {
        if (ctx.directDtype() != DType.BF16) return false;
        for (int i = 0; i < ctx.size(); i++) if (ctx.dtype(i) != DType.BF16) return false;
        return true;
    }

    /**
     * Whether the output pass can run on the fused kernels: the TIES consensus over BF16 task
     * vectors, each kept whole or by plain top-k, written as BF16.
     */
    private boolean fusedOutput(Sparsifier[] sp, TensorContext ctx) {
        if (!consensus || !allBf16(ctx)) return false;
        for (Sparsifier s : sp) {
            if (s.random != null || s.della != null) return false; // the fused kernels only drop by a threshold
            if (s.band == null ? s.to <= s.from : !(s.band.topOnly() || s.band.keepsAll())) return false;
        }
        return true;
    }

    /**
     * The output pass in two kernels per chunk ({@link MergeKernels#maskedDeltaBf16} per task
     * vector, {@link MergeKernels#tiesCombineBf16}): the same bytes as the step-by-step pass.
     */
    private static void fusedOutputPass(TensorContext ctx, int[] idx, Sparsifier[] sp, float[] weights,
                                        boolean normalize, float lambda) {
        int m = sp.length;
        if (m <= 3 && unscaled(sp)) {
            wholeOutputPass(ctx, idx, sp, weights, normalize, lambda);
            return;
        }
        int[] thr = topKeys(sp);
        long[] left = topTies(sp);
        // pieces of 2048 elements: the weighted task vectors (8 KiB each) stay in L1 between the
        // two kernels (measured 20 % faster than whole 8192-element chunks)
        int piece = TensorContext.CHUNK / 4;
        float[][] weighted = new float[m][piece];
        MemorySegment[] xs = new MemorySegment[m];
        MergeKernels k = ctx.kernels();
        long n = ctx.elements();
        for (long w = 0; w < n; w += TensorContext.WINDOW) {
            int wlen = (int) Math.min(TensorContext.WINDOW, n - w);
            MemorySegment base = windows(ctx, idx, xs, w, wlen);
            for (int at = 0; at < wlen; at += piece) {
                int len = Math.min(piece, wlen - at);
                long c = w + at;
                for (int i = 0; i < m; i++) {
                    left[i] = k.maskedDeltaBf16(xs[i], base, at, thr[i], left[i], sp[i].rescale, weights[i], weighted[i], len);
                }
                k.tiesCombineBf16(weighted, weights, m, base, at, normalize, lambda, ctx.reserve(c, len), 0, len);
                ctx.commit(c, len);
            }
        }
    }

    private static boolean unscaled(Sparsifier[] sp) {
        for (Sparsifier s : sp) if (s.rescale != 1f) return false;
        return true;
    }

    /**
     * The output pass for up to three unscaled task vectors in one kernel call per window ({@link
     * MergeKernels#tiesOutputBf16}): no intermediate arrays, the same bytes.
     */
    private static void wholeOutputPass(TensorContext ctx, int[] idx, Sparsifier[] sp, float[] weights,
                                        boolean normalize, float lambda) {
        int[] thr = topKeys(sp);
        long[] left = topTies(sp);
        MemorySegment[] xs = new MemorySegment[sp.length];
        MergeKernels k = ctx.kernels();
        long n = ctx.elements();
        // a whole window per call (the kernel needs no scratch), as task arithmetic's plain sum
        for (long w = 0; w < n; w += TensorContext.WINDOW) {
            int wlen = (int) Math.min(TensorContext.WINDOW, n - w);
            MemorySegment base = windows(ctx, idx, xs, w, wlen);
            k.tiesOutputBf16(base, xs, sp.length, 0, thr, left, weights, normalize, lambda, ctx.reserve(w, wlen), 0, wlen);
            ctx.commit(w, wlen);
        }
    }

    /** Window [w, w + wlen) of each task vector into xs; returns the base's. */
    private static MemorySegment windows(TensorContext ctx, int[] idx, MemorySegment[] xs, long w, int wlen) {
        for (int i = 0; i < idx.length; i++) xs[i] = ctx.window(idx[i], w, wlen);
        return ctx.window(ctx.baseIndex(), w, wlen);
    }

    /** Each task vector's top-k threshold key for the fused kernels, -1 where it is kept whole. */
    private static int[] topKeys(Sparsifier[] sp) {
        int[] keys = new int[sp.length];
        for (int i = 0; i < sp.length; i++) keys[i] = topOnly(sp[i]) ? sp[i].band.thresholdKey() : -1;
        return keys;
    }

    /** Each task vector's quota of elements equal to its threshold key (0 where kept whole). */
    private static long[] topTies(Sparsifier[] sp) {
        long[] ties = new long[sp.length];
        for (int i = 0; i < sp.length; i++) ties[i] = topOnly(sp[i]) ? sp[i].band.tiesLeft() : 0;
        return ties;
    }

    private static boolean topOnly(Sparsifier s) {
        return s.band != null && s.band.topOnly();
    }

    private Sparsifier prepare(TensorContext ctx, int input, int ordinal, long n) {
        Sparsifier s = new Sparsifier();
        double density = ctx.number(input, "density");
        s.from = 0;
        s.to = n;
        if (sparsify == Sparsify.NONE || density >= 1) return s;
        if (density < 0) throw ctx.fail(input, "density must not be negative (" + density + ")");
        s.density = (float) density;
        switch (sparsify) {
            case RANDOM -> s.random = new CounterRandom(ctx.seed(), ctx.name(), ordinal);
            case DELLA -> {
                if (density == 0) {
                    s.to = 0; // mergekit: a zero task vector, not rescaled
                    return s;
                }
                double epsilon = ctx.number(input, "epsilon");
                if (density + epsilon >= 1 || density - epsilon <= 0) {
                    throw ctx.fail(input, "epsilon " + epsilon + " must keep density ± epsilon inside (0, 1) (density "
                            + density + ")");
                }
                s.della = new DellaPrune(ctx, input, ordinal, density, epsilon);
                return s;
            }
            case MAGNITUDE -> {
                long k = (long) (density * n);
                if (k <= 0) throw ctx.fail(input, "density " + density + " keeps no element of " + n);
                s.to = k;
            }
            case MAGNITUDE_OUTLIERS -> {
                double gamma = ctx.number(input, "gamma");
                long target = (long) (density * n);
                long top = (long) (gamma * n);
                long bottom = n - target - top;
                if (bottom < 0) {
                    top += bottom;
                    bottom = 0;
                }
                s.from = top;
                s.to = n - bottom;
            }
            default -> {
            }
        }
        if (s.random == null && (s.from > 0 || s.to < n)) {
            s.select = new MagnitudeSelect();
            List<Long> r = new ArrayList<>();
            if (s.to < n && s.to > s.from) r.add(s.to - 1);
            if (s.from > 0) r.add(s.from - 1);
            s.ranks = r.stream().mapToLong(Long::longValue).toArray();
        }
        return s;
    }

    private static void selectionPasses(TensorContext ctx, int[] idx, Sparsifier[] sp, float[] base, float[] tmp) {
        long n = ctx.elements();
        int baseIdx = ctx.baseIndex();
        var k = ctx.kernels();
        // one rank over a large tensor (ties): a sampled bracket and one counting pass
        SampledSelect[] sampled = new SampledSelect[sp.length];
        int[][] keys = new int[sp.length][];
        boolean anySampled = false;
        for (int i = 0; i < sp.length; i++) {
            if (sp[i].select == null || sp[i].ranks.length != 1 || !SampledSelect.worthIt(n)) continue;
            sampled[i] = new SampledSelect(sp[i].ranks[0], n);
            keys[i] = new int[SampledSelect.BLOCKS * SampledSelect.BLOCK];
            anySampled = true;
        }
        if (anySampled) {
            sampleKeys(ctx, idx, sampled, keys, base, tmp);
            for (int i = 0; i < sp.length; i++) if (sampled[i] != null) sampled[i].begin(keys[i]);
            countBracketed(ctx, idx, sampled, base, tmp);
            for (int i = 0; i < sp.length; i++) if (sampled[i] != null) sp[i].sampled = sampled[i].threshold(k);
        }
        boolean any = false;
        for (Sparsifier s : sp) {
            if (s.select != null && s.sampled == null) {
                s.select.begin(s.ranks);
                any = true;
            }
        }
        if (any) radixPasses(ctx, idx, sp, base, tmp);
    }

    // The passes below are methods of their own so that the JIT compiles each loop as a unit of
    // its own: as one method, C2 compiled all of them twice (on-stack and whole), 0.9 s of CPU
    // in a TIES merge of 1.9 GB models.

    /** The sampled blocks' keys, read through the context (positional reads when streaming), the base once per block. */
    private static void sampleKeys(TensorContext ctx, int[] idx, SampledSelect[] sampled, int[][] keys, float[] base, float[] tmp) {
        long n = ctx.elements();
        int len = SampledSelect.BLOCK;
        for (int b = 0; b < SampledSelect.BLOCKS; b++) {
            long at = SampledSelect.samplePositions(n, b);
            ctx.load(ctx.baseIndex(), at, base, len);
            for (int i = 0; i < sampled.length; i++) {
                if (sampled[i] == null) continue;
                ctx.loadDelta(idx[i], at, base, tmp, len);
                for (int e = 0; e < len; e++) keys[i][b * len + e] = MagnitudeSelect.key(tmp[e]);
            }
        }
    }

    /** One counting pass of every sampled selection, window by window. */
    private static void countBracketed(TensorContext ctx, int[] idx, SampledSelect[] sampled, float[] base, float[] tmp) {
        long n = ctx.elements();
        int baseIdx = ctx.baseIndex();
        var k = ctx.kernels();
        for (long w = 0; w < n; w += TensorContext.WINDOW) {
            int wlen = (int) Math.min(TensorContext.WINDOW, n - w);
            for (int i = 0; i < sampled.length; i++) {
                if (sampled[i] == null) continue;
                if (ctx.dtype(idx[i]) == DType.BF16 && ctx.dtype(baseIdx) == DType.BF16) {
                    // the task vector's keys straight from the BF16 bytes, no F32 copies (the
                    // base's window is read once per window and served again from the buffer)
                    sampled[i].countDelta(ctx.window(idx[i], w, wlen), ctx.window(baseIdx, w, wlen), 0, wlen, k);
                    continue;
                }
                for (long c = w; c < w + wlen; c += TensorContext.CHUNK) {
                    int len = (int) Math.min(TensorContext.CHUNK, w + wlen - c);
                    ctx.load(baseIdx, c, base, len);
                    ctx.loadDelta(idx[i], c, base, tmp, len);
                    sampled[i].count(tmp, len, k);
                }
            }
        }
    }

    /** The two radix passes of every selection the sampling did not settle (breadcrumbs' two ranks, small tensors, missed brackets). */
    private static void radixPasses(TensorContext ctx, int[] idx, Sparsifier[] sp, float[] base, float[] tmp) {
        long n = ctx.elements();
        int baseIdx = ctx.baseIndex();
        var k = ctx.kernels();
        for (int pass = 0; pass < 2; pass++) {
            for (long c = 0; c < n; c += TensorContext.CHUNK) {
                int len = (int) Math.min(TensorContext.CHUNK, n - c);
                ctx.load(baseIdx, c, base, len);
                for (int i = 0; i < sp.length; i++) {
                    if (sp[i].select == null || sp[i].sampled != null) continue;
                    ctx.loadDelta(idx[i], c, base, tmp, len);
                    if (pass == 0) sp[i].select.countHigh(tmp, len);
                    else sp[i].select.countLow(tmp, len, k);
                }
            }
            if (pass == 0) for (Sparsifier s : sp) if (s.select != null && s.sampled == null) s.select.endHigh();
        }
    }

    private static RankBand makeBand(Sparsifier s, long n) {
        if (s.select == null) return null;
        MagnitudeSelect.Threshold upper = null, lower = null;
        int r = 0;
        // a sampled threshold stands for the one rank there is (upper or lower)
        if (s.to < n && s.to > s.from) upper = s.sampled != null ? s.sampled : s.select.threshold(r++);
        if (s.from > 0) lower = s.sampled != null ? s.sampled : s.select.threshold(r);
        return new RankBand(s.from, s.to, n, upper, lower);
    }

    /** delta = x − base, sparsified. */
    private static void taskVector(TensorContext ctx, int input, Sparsifier s, long c, float[] base, float[] delta, int len) {
        ctx.loadDelta(input, c, base, delta, len);
        if (s.band != null) s.band.apply(delta, len, ctx.kernels());
        else if (s.random != null) s.random.dropout(delta, c, len, s.density, ctx.kernels());
        else if (s.della != null) s.della.apply(delta, c, len);
        else if (s.to <= s.from) ctx.kernels().scale(delta, 0f, len);
    }

    /** L1 norm before and after sparsification, in fixed order: the rescale factor. */
    private static void rescalePass(TensorContext ctx, int[] idx, Sparsifier[] sp, long n, float[] base, float[] tmp) {
        double[] before = new double[sp.length], after = new double[sp.length];
        for (Sparsifier s : sp) s.band = makeBand(s, n);
        var k = ctx.kernels();
        for (long c = 0; c < n; c += TensorContext.CHUNK) {
            int len = (int) Math.min(TensorContext.CHUNK, n - c);
            ctx.load(ctx.baseIndex(), c, base, len);
            for (int i = 0; i < sp.length; i++) {
                if (sp[i].select == null && sp[i].random == null && sp[i].della == null && sp[i].to > sp[i].from) continue;
                ctx.load(idx[i], c, tmp, len);
                k.sub(tmp, base, tmp, len);
                before[i] += k.sumAbs(tmp, len);
                if (sp[i].band != null) sp[i].band.apply(tmp, len, k);
                else if (sp[i].random != null) sp[i].random.dropout(tmp, c, len, sp[i].density, k);
                else if (sp[i].della != null) sp[i].della.apply(tmp, c, len);
                else k.scale(tmp, 0f, len);
                after[i] += k.sumAbs(tmp, len);
            }
        }
        for (int i = 0; i < sp.length; i++) {
            // mergekit leaves the masked tensor unscaled when either norm is below 1e-7
            if (before[i] >= 1e-7 && after[i] >= 1e-7) sp[i].rescale = (float) (before[i] / after[i]);
        }
    }
}
