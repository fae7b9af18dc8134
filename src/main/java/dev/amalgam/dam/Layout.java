package dev.amalgam.dam;

import java.util.ArrayList;
import java.util.List;

/**
 * The tensors of a llama-style model in a fixed order, with their [rows, columns] shapes (a 1-D
 * tensor is one row): the order DAM coefficients and gradients are indexed by.
 */
public record Layout(LlamaConfig config, List<String> names, int[] rows, int[] cols) {
    /** Offsets of a layer's tensors from {@link #layer(int)}. */
    public static final int IN_NORM = 0, Q = 1, K = 2, V = 3, O = 4, POST_NORM = 5, GATE = 6, UP = 7, DOWN = 8, PER_LAYER = 9;
    public static final int EMBED = 0;

    public static Layout of(LlamaConfig c) {
        List<String> names = new ArrayList<>();
        List<int[]> shapes = new ArrayList<>();
        int h = c.hidden(), kv = c.kvDim(), i = c.intermediate();
        names.add("model.embed_tokens.weight");
        shapes.add(new int[]{c.vocab(), h});
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            names.add(p + "input_layernorm.weight");
            shapes.add(new int[]{1, h});
            names.add(p + "self_attn.q_proj.weight");
            shapes.add(new int[]{h, h});
            names.add(p + "self_attn.k_proj.weight");
            shapes.add(new int[]{kv, h});
            names.add(p + "self_attn.v_proj.weight");
            shapes.add(new int[]{kv, h});
            names.add(p + "self_attn.o_proj.weight");
            shapes.add(new int[]{h, h});
            names.add(p + "post_attention_layernorm.weight");
            shapes.add(new int[]{1, h});
            names.add(p + "mlp.gate_proj.weight");
            shapes.add(new int[]{i, h});
            names.add(p + "mlp.up_proj.weight");
            shapes.add(new int[]{i, h});
            names.add(p + "mlp.down_proj.weight");
            shapes.add(new int[]{h, i});
        }
        names.add("model.norm.weight");
        shapes.add(new int[]{1, h});
        if (!c.tieWordEmbeddings()) {
            names.add("lm_head.weight");
            shapes.add(new int[]{c.vocab(), h});
        }
        int[] rows = new int[shapes.size()], cols = new int[shapes.size()];
        for (int t = 0; t < rows.length; t++) {
            rows[t] = shapes.get(t)[0];
            cols[t] = shapes.get(t)[1];
        }
        return new Layout(c, List.copyOf(names), rows, cols);
    }

    public int size() {
        return names.size();
    }

    public int layer(int l) {
        return 1 + PER_LAYER * l;
    }

    public int finalNorm() {
        return 1 + PER_LAYER * config.layers();
    }

    /** The output head's index: {@code lm_head}, or the embedding when tied. */
    public int head() {
        return config.tieWordEmbeddings() ? EMBED : finalNorm() + 1;
    }

    public boolean isVector(int t) {
        return rows[t] == 1;
    }

    public long elements(int t) {
        return (long) rows[t] * cols[t];
    }
}
