package dev.amalgam.model;

import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsModel;
import dev.amalgam.safetensors.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A model folder's tensors as the forward pass reads them: matrices stay in their mapped files
 * (BF16, F16 or F32, read in place by the kernels), norm weights and biases are widened to F32
 * arrays. Every tensor the config implies must be there with its shape; a tensor it does not
 * imply is an error naming it (an unknown tensor means a model this pass would run wrongly).
 */
public final class ModelWeights implements AutoCloseable {
    /** Buffers older llama checkpoints carry and every loader recomputes. */
    private static final Pattern IGNORED = Pattern.compile("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq");

    /** A matrix read in place: {@code rows × cols} elements of {@code dtype} from byte 0 of {@code data}. */
    public record Matrix(String name, MemorySegment data, DType dtype, int rows, int cols) {
    }

    /** One decoder layer's tensors; absent biases are null. */
    public record Layer(float[] inputNorm, Matrix q, Matrix k, Matrix v, Matrix o, float[] qBias, float[] kBias,
                        float[] vBias, float[] oBias, float[] postNorm, Matrix gate, Matrix up, Matrix down,
                        float[] gateBias, float[] upBias, float[] downBias) {
    }

    private final ModelConfig config;
    private final SafetensorsModel model;
    private final Matrix embed, head;
    private final float[] finalNorm;
    private final List<Layer> layers;
    private final long matrixBytes;

    private ModelWeights(ModelConfig config, SafetensorsModel model, Matrix embed, Matrix head, float[] finalNorm,
                         List<Layer> layers, long matrixBytes) {
        this.config = config;
        this.model = model;
        this.embed = embed;
        this.head = head;
        this.finalNorm = finalNorm;
        this.layers = layers;
        this.matrixBytes = matrixBytes;
    }

    /** Opens a model folder: its config.json and safetensors weights. */
    public static ModelWeights open(Path dir) throws IOException {
        ModelConfig c = ModelConfig.read(dir);
        SafetensorsModel m = SafetensorsModel.open(dir);
        try {
            return new Reader(dir, c, m).read();
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public Matrix embed() {
        return embed;
    }

    public Matrix head() {
        return head;
    }

    public float[] finalNorm() {
        return finalNorm;
    }

    public List<Layer> layers() {
        return layers;
    }

    /** Bytes of the matrices one token reads (every layer matrix and the output head): the memory traffic of a token. */
    public long bytesPerToken() {
        return matrixBytes;
    }

    @Override
    public void close() {
        model.close();
    }

    /** Checks and collects the tensors. */
    private static final class Reader {
        private final Path dir;
        private final ModelConfig c;
        private final SafetensorsModel m;
        private final Set<String> used = new HashSet<>();
        private long bytes;

        Reader(Path dir, ModelConfig c, SafetensorsModel m) {
            this.dir = dir;
            this.c = c;
            this.m = m;
        }

        ModelWeights read() {
            int h = c.hidden(), q = c.qDim(), kv = c.kvDim(), im = c.intermediate();
            Matrix embed = matrix("model.embed_tokens.weight", c.vocab(), h);
            bytes = 0;
            List<Layer> layers = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++) {
                String p = "model.layers." + l + ".";
                layers.add(new Layer(vector(p + "input_layernorm.weight", h),
                        matrix(p + "self_attn.q_proj.weight", q, h), matrix(p + "self_attn.k_proj.weight", kv, h),
                        matrix(p + "self_attn.v_proj.weight", kv, h), matrix(p + "self_attn.o_proj.weight", h, q),
                        c.qkvBias() ? vector(p + "self_attn.q_proj.bias", q) : null,
                        c.qkvBias() ? vector(p + "self_attn.k_proj.bias", kv) : null,
                        c.qkvBias() ? vector(p + "self_attn.v_proj.bias", kv) : null,
                        c.outputBias() ? vector(p + "self_attn.o_proj.bias", h) : null,
                        vector(p + "post_attention_layernorm.weight", h),
                        matrix(p + "mlp.gate_proj.weight", im, h), matrix(p + "mlp.up_proj.weight", im, h),
                        matrix(p + "mlp.down_proj.weight", h, im),
                        c.mlpBias() ? vector(p + "mlp.gate_proj.bias", im) : null,
                        c.mlpBias() ? vector(p + "mlp.up_proj.bias", im) : null,
                        c.mlpBias() ? vector(p + "mlp.down_proj.bias", h) : null));
            }
            float[] norm = vector("model.norm.weight", h);
            // the embedding table is read one row per token, the layers and the head whole: only those count
            long perToken = bytes;
            Matrix head;
            if (c.tieWordEmbeddings()) {
                if (m.has("lm_head.weight")) {
                    throw new IllegalArgumentException(dir + ": tensor lm_head.weight is present although config.json says"
                            + " tie_word_embeddings: true (which one a reference loader uses is not defined)");
                }
                head = embed;
            } else {
                head = matrix("lm_head.weight", c.vocab(), h);
            }
            perToken += (long) head.rows() * head.cols() * head.dtype().byteSize();
            for (String name : m.names()) {
                if (!used.contains(name) && !IGNORED.matcher(name).matches()) {
                    throw new IllegalArgumentException(dir + ": tensor " + name + " is not part of a " + c.family()
                            + " model with this config.json (the forward pass would ignore it)");
                }
            }
            return new ModelWeights(c, m, embed, head, norm, List.copyOf(layers), perToken);
        }

        private Matrix matrix(String name, int rows, int cols) {
            Tensor t = tensor(name, new long[]{rows, cols});
            bytes += (long) rows * cols * t.dtype().byteSize();
            return new Matrix(name, t.data(), t.dtype(), rows, cols);
        }

        private float[] vector(String name, int n) {
            Tensor t = tensor(name, new long[]{n});
            float[] out = new float[n];
            Kernels.get().load(t.data(), t.dtype(), 0, out, n);
            return out;
        }

        private Tensor tensor(String name, long[] shape) {
            Tensor t = m.tensor(name);
            if (t == null) throw new IllegalArgumentException(dir + ": no tensor " + name + " (config.json implies it)");
            if (!java.util.Arrays.equals(t.info().shape(), shape) || !t.dtype().isMergeFloat()) {
                throw new IllegalArgumentException(dir + ": tensor " + name + " is " + t.info() + ", expected a float tensor of "
                        + java.util.Arrays.toString(shape) + " from config.json");
            }
            used.add(name);
            return t;
        }
    }
}
