package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;

/** Copies its single input (optionally times {@code scale}): slices and frankenmerges. */
final class Passthrough extends DeclaredMethod {
    Passthrough() {
        super("passthrough", "mergekit", false,
                "copy (bytes unchanged when the dtype is)",
                List.of(),
                List.of(ParameterDef.number("scale", null, "multiply the tensor by this factor")));
    }

    @Override
    public String checkInputCount(int inputs, boolean hasBase) {
        return inputs == 1 ? null : "passthrough takes exactly one source per slice, got " + inputs;
    }

    @Override
    public boolean elementwise(java.util.Map<String, Object> globals) {
        return true;
    }

    @Override
    public void merge(TensorContext ctx) {
        Object scale = ctx.inputs().getFirst().params().get("scale");
        float s = scale == null ? 1f : (float) ((Number) scale).doubleValue();
        float[] x = new float[TensorContext.CHUNK];
        long n = ctx.elements();
        for (long c = 0; c < n; c += TensorContext.CHUNK) {
            int len = (int) Math.min(TensorContext.CHUNK, n - c);
            ctx.load(0, c, x, len);
            if (scale != null) ctx.kernels().scale(x, s, len);
            ctx.emit(c, x, len);
        }
    }
}
