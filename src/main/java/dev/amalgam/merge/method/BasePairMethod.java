package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;

/**
 * A method of the base model and exactly one other (slerp, nearswap, arcee_fusion): the input
 * count is checked once here, a tensor only one of them has is passed through, and the subclass
 * gets the two inputs' indices.
 */
abstract class BasePairMethod extends DeclaredMethod {
    BasePairMethod(String name, String reference, String determinism, List<ParameterDef> parameters) {
        super(name, reference, true, determinism, parameters, List.of());
    }

    @Override
    public final String checkInputCount(int inputs, boolean hasBase) {
        return inputs == 2 ? null : name() + " merges exactly two models (base and one other), got " + inputs;
    }

    @Override
    public final void merge(TensorContext ctx) {
        if (ctx.size() == 1) {
            new Passthrough().merge(ctx);
            return;
        }
        int base = ctx.baseIndex();
        if (base < 0 || ctx.size() != 2) throw ctx.fail(name() + " needs the base model and exactly one other model");
        merge(ctx, base, 1 - base);
    }

    /** Computes the output from inputs {@code base} and {@code other} of {@code ctx}. */
    abstract void merge(TensorContext ctx, int base, int other);
}
