package dev.amalgam.dam;

import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.safetensors.SafetensorsModel;
import dev.amalgam.safetensors.Tensor;

import java.io.IOException;
import java.nio.file.Path;

/** A model's tensors widened to F32, indexed as its {@link Layout}. */
public final class Weights {
    private Weights() {
    }

    /**
     * Reads every tensor of the layout from a model folder (BF16, F16 or F32); a missing tensor, a
     * shape that differs, or a tensor the layout does not know is an error naming it.
     */
    public static float[][] read(Path dir, Layout layout) throws IOException {
        float[][] out = new float[layout.size()][];
        try (SafetensorsModel m = SafetensorsModel.open(dir)) {
            for (String name : m.names()) {
                if (!layout.names().contains(name)) {
                    throw new IllegalArgumentException(dir + ": tensor " + name
                            + " is not part of a llama-style model dam fit can run (no biases or extra tensors)");
                }
            }
            for (int t = 0; t < layout.size(); t++) {
                String name = layout.names().get(t);
                Tensor tensor = m.tensor(name);
                if (tensor == null) throw new IllegalArgumentException(dir + ": no tensor " + name);
                long[] shape = tensor.info().shape();
                boolean ok = layout.isVector(t) ? shape.length == 1 && shape[0] == layout.cols()[t]
                        : shape.length == 2 && shape[0] == layout.rows()[t] && shape[1] == layout.cols()[t];
                if (!ok || !tensor.dtype().isMergeFloat()) {
                    throw new IllegalArgumentException(dir + ": tensor " + name + " is " + tensor.info()
                            + ", expected a float tensor of " + (layout.isVector(t) ? "[" + layout.cols()[t] + "]"
                            : "[" + layout.rows()[t] + ", " + layout.cols()[t] + "]") + " from config.json");
                }
                out[t] = new float[Math.toIntExact(layout.elements(t))];
                load(tensor, 0, out[t]);
            }
        }
        return out;
    }

    /** dst = elements [from, from + dst.length) of the tensor, widened to F32. */
    static void load(Tensor t, long from, float[] dst) {
        Kernels.get().load(t.data(), t.dtype(), from, dst, dst.length);
    }
}
