package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.CounterRandom;
import dev.amalgam.merge.kernel.SampledSelect;
import dev.amalgam.merge.recipe.ParameterDef;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * mergekit's "generalized task arithmetic": task vectors δᵢ = xᵢ − base are sparsified
 * (magnitude top-k, random drop, magnitude with outliers removed, or DELLA's random drop with
 * probabilities by magnitude rank), optionally rescaled to
 * keep their L1 norm, weighted, combined (summed, or summed over the TIES sign consensus),
 * optionally divided by the weights, scaled by λ and added to the base.
 *
 * <p>Streaming, each pass chunk by chunk in index order (the tie rule and the reductions depend
 * on that order, never on threads): each task vector's {@link Sparsity} is prepared from its
 * parameters; {@link SelectionPasses} find the magnitude thresholds (one counting pass over a
 * large tensor with one rank, {@link SampledSelect}; two radix passes otherwise); {@link
 * RescalePass} one more pass for the L1 rescale; then the {@link OutputPass} chosen for the
 * tensor writes the output.
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
    public boolean elementwise(Map<String, Object> globals) {
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
        Sparsity[] sp = new Sparsity[m];
        MagnitudeSelection[] selections = new MagnitudeSelection[m];
        boolean anySelection = false;
        boolean rescale = ctx.flag("rescale") && sparsify != Sparsify.NONE;
        for (int i = 0; i < m; i++) {
            weights[i] = (float) ctx.number(idx[i], "weight");
            sp[i] = prepare(ctx, idx[i], i, n);
            selections[i] = sp[i].selection();
            anySelection |= selections[i] != null;
        }
        float[] factors = new float[m];
        Arrays.fill(factors, 1f);
        if (anySelection || rescale) {
            float[] base = new float[TensorContext.CHUNK], tmp = new float[TensorContext.CHUNK];
            if (anySelection) SelectionPasses.run(ctx, idx, selections, base, tmp);
            if (rescale) factors = RescalePass.factors(ctx, idx, sp, base, tmp);
        }
        float weightSum = 0f;
        for (float w : weights) weightSum = weightSum + w;
        if (Math.abs(weightSum) < 1e-8f) weightSum = 1f; // mergekit's guard against dividing by ~0
        Sparsifier[] sparsifiers = new Sparsifier[m];
        for (int i = 0; i < m; i++) sparsifiers[i] = sp[i].fresh(n);
        var mix = new TaskVectors.Mix(consensus, ctx.flag("normalize"), (float) ctx.number("lambda"), weightSum);
        var tv = new TaskVectors(ctx, idx, weights, sparsifiers, factors, mix);
        OutputPass.choose(tv).write(tv);
    }

    /** Task vector {@code ordinal}'s sparsification as its parameters ask for it. */
    private Sparsity prepare(TensorContext ctx, int input, int ordinal, long n) {
        double density = ctx.number(input, "density");
        if (sparsify == Sparsify.NONE || density >= 1) return Sparsity.of(Sparsifier.KEEP_ALL);
        if (density < 0) throw ctx.fail(input, "density must not be negative (" + density + ")");
        return switch (sparsify) {
            case RANDOM -> Sparsity.of(new Sparsifier.RandomDrop(new CounterRandom(ctx.seed(), ctx.name(), ordinal),
                    (float) density));
            case DELLA -> {
                // mergekit: at density 0 a zero task vector, not rescaled
                if (density == 0) yield Sparsity.of(new Sparsifier.DropAll());
                double epsilon = ctx.number(input, "epsilon");
                if (density + epsilon >= 1 || density - epsilon <= 0) {
                    throw ctx.fail(input, "epsilon " + epsilon + " must keep density ± epsilon inside (0, 1) (density "
                            + density + ")");
                }
                yield Sparsity.of(new Sparsifier.DellaDrop(new DellaPrune(ctx, input, ordinal, density, epsilon)));
            }
            case MAGNITUDE -> {
                long k = (long) (density * n);
                if (k <= 0) throw ctx.fail(input, "density " + density + " keeps no element of " + n);
                yield band(0, k, n);
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
                yield band(top, n - bottom, n);
            }
            case NONE -> Sparsity.of(Sparsifier.KEEP_ALL);
        };
    }

    /** The magnitude ranks [from, to) kept: a selection unless that is every rank. */
    private static Sparsity band(long from, long to, long n) {
        if (from <= 0 && to >= n) return Sparsity.of(Sparsifier.KEEP_ALL);
        return Sparsity.select(new MagnitudeSelection(from, to, n));
    }
}
