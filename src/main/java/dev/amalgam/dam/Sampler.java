package dev.amalgam.dam;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Token sequences sampled from a model (ancestral sampling at a temperature), to use as
 * calibration data that resembles what the model itself produces. The first token of each
 * sequence is uniform; draws come from {@link SplittableRandom} seeded by {@code seed}, so the
 * same arguments give the same sequences.
 */
public final class Sampler {
    private Sampler() {
    }

    public static List<int[]> sample(Path model, int count, int length, double temperature, long seed) throws IOException {
        if (count < 1 || length < 1) throw new IllegalArgumentException("--count and --length must be at least 1");
        if (!(temperature > 0)) throw new IllegalArgumentException("--temperature must be positive");
        LlamaConfig config = LlamaConfig.read(model);
        Layout layout = Layout.of(config);
        Llama net = new Llama(layout, Weights.read(model, layout), length);
        SplittableRandom rnd = new SplittableRandom(seed);
        int vocab = config.vocab();
        float[] p = new float[vocab];
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            int[] seq = new int[length];
            seq[0] = rnd.nextInt(vocab);
            for (int t = 1; t < length; t++) {
                float[] logits = net.forward(Arrays.copyOf(seq, t), null);
                float[] last = Arrays.copyOfRange(logits, (t - 1) * vocab, t * vocab);
                Objective.softmax(last, 0, vocab, temperature, p);
                double u = rnd.nextDouble(), acc = 0;
                int pick = vocab - 1;
                for (int v = 0; v < vocab; v++) {
                    acc += p[v];
                    if (u < acc) {
                        pick = v;
                        break;
                    }
                }
                seq[t] = pick;
            }
            out.add(seq);
        }
        return out;
    }
}
