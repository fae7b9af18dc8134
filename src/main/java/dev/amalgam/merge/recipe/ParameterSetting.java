package dev.amalgam.merge.recipe;

import java.util.List;

/**
 * A recipe parameter value as mergekit reads it: a scalar, a gradient (numbers interpolated
 * across the layers of a slice), a list of non-numeric steps, or a list of
 * {@code filter}/{@code value} conditions matched against tensor names.
 */
public sealed interface ParameterSetting {

    /** The value for a tensor at slice position t in [0, 1], or null when no condition matches. */
    Object evaluate(String tensorName, double t);

    /** Numbers (as Double), booleans or strings. */
    record Scalar(Object value) implements ParameterSetting {
        @Override
        public Object evaluate(String tensorName, double t) {
            return value;
        }
    }

    /**
     * Piecewise-linear over t: position t * (n - 1), interpolating between the two nearest
     * entries (mergekit's rule; t = i / (layers - 1) within a slice, 0 for non-layer tensors).
     */
    record Gradient(List<Double> points) implements ParameterSetting {
        @Override
        public Object evaluate(String tensorName, double t) {
            double scaled = t * (points.size() - 1);
            int i0 = (int) scaled;
            int i1 = Math.min(points.size() - 1, i0 + 1);
            double frac = scaled - i0;
            return (1 - frac) * points.get(i0) + frac * points.get(i1);
        }
    }

    /** Non-numeric lists pick entry int(t * (n - 1)), without interpolation. */
    record Steps(List<Object> values) implements ParameterSetting {
        @Override
        public Object evaluate(String tensorName, double t) {
            return values.get((int) (t * (values.size() - 1)));
        }
    }

    /** First condition whose filter is absent, {@code *}, or a substring of the tensor name wins. */
    record Conditional(List<Condition> conditions) implements ParameterSetting {
        @Override
        public Object evaluate(String tensorName, double t) {
            for (Condition c : conditions) {
                if (c.filter() == null || c.filter().equals("*")
                        || (tensorName != null && tensorName.contains(c.filter()))) {
                    return c.value().evaluate(tensorName, t);
                }
            }
            return null;
        }
    }

    record Condition(String filter, ParameterSetting value) {
    }
}
