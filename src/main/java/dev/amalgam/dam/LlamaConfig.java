package dev.amalgam.dam;

import dev.amalgam.model.Activation;
import dev.amalgam.model.ModelConfig;
import dev.amalgam.model.RopeScaling;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The {@code config.json} fields a llama-style forward pass needs. */
public record LlamaConfig(int hidden, int heads, int kvHeads, int intermediate, int layers, int vocab,
                          double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings) {
    public LlamaConfig {
        if (hidden <= 0 || heads <= 0 || kvHeads <= 0 || intermediate <= 0 || layers <= 0 || vocab <= 0) {
            throw new IllegalArgumentException("config sizes must be positive");
        }
        if (hidden % heads != 0) throw new IllegalArgumentException("hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        if (heads % kvHeads != 0) throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        if ((hidden / heads) % 2 != 0) throw new IllegalArgumentException("the head size " + hidden / heads + " must be even (rotary embedding)");
    }

    public int headDim() {
        return hidden / heads;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }

    /**
     * Reads a model folder's config.json through {@link ModelConfig} (so an unknown or unimplemented
     * field is an error there) and refuses what this pass does not implement: biases, rotary
     * scaling, activations other than SiLU, a head size other than hidden/heads, a sliding window.
     */
    public static LlamaConfig read(Path modelDir) throws IOException {
        ModelConfig m = ModelConfig.read(modelDir);
        String where = modelDir.resolve("config.json").toString();
        List<String> missing = new ArrayList<>();
        if (m.qkvBias() || m.outputBias() || m.mlpBias()) missing.add("biases (" + m.family() + ")");
        if (m.ropeScaling().type() != RopeScaling.Type.DEFAULT) missing.add("rope_scaling " + m.ropeScaling().type().name().toLowerCase());
        if (m.activation() != Activation.SILU) missing.add("hidden_act " + m.activation().name().toLowerCase());
        if (m.headDim() * m.heads() != m.hidden()) missing.add("head_dim " + m.headDim() + " other than hidden_size / num_attention_heads");
        if (m.slidingWindow() != null) missing.add("sliding_window");
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(where + ": dam fit does not implement " + String.join(", ", missing)
                    + " (llama-style models without biases, SiLU, plain rotary embedding)");
        }
        return new LlamaConfig(m.hidden(), m.heads(), m.kvHeads(), m.intermediate(), m.layers(), m.vocab(),
                m.rmsNormEps(), m.ropeTheta(), m.tieWordEmbeddings());
    }
}
