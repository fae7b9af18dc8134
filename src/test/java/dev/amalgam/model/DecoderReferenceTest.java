package dev.amalgam.model;

import dev.amalgam.model.kernel.MatVecs;
import dev.amalgam.safetensors.SafetensorsFile;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.merge.kernel.Kernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The decoder against logits computed independently in PyTorch from the Hugging Face definitions
 * (src/test/resources/forward-reference/make_fixtures.py): biases, head size, rotary scaling
 * (llama3, yarn, linear, dynamic), activations, tied embeddings, BF16 and F32 weights.
 */
class DecoderReferenceTest {
    /** F32 token-by-token against a float64 whole-sequence reference: measured at most 1.7e-5. */
    private static final double TOLERANCE = 1e-4;

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(DecoderReferenceTest.class.getResource("/forward-reference/" + name).toURI());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-bf16", "llama3-rope-bias", "qwen2-yarn-tied", "mistral-linear", "llama-dynamic"})
    void logitsMatchTheReference(String name) throws Exception {
        Path dir = fixture(name);
        List<int[]> seqs = TokenFile.read(dir.resolve("tokens.txt"), 96);
        for (int threads : new int[]{1, 2}) {
            try (ModelWeights w = ModelWeights.open(dir); RowPool pool = new RowPool(threads, MatVecs.get());
                 SafetensorsFile expected = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
                Decoder d = new Decoder(w, pool, 32);
                double worst = 0;
                for (int s = 0; s < seqs.size(); s++) {
                    int[] tok = seqs.get(s);
                    Tensor e = expected.tensor("logits." + s);
                    float[] want = new float[tok.length * 96];
                    Kernels.get().load(e.data(), e.dtype(), 0, want, want.length);
                    d.begin(tok.length);
                    for (int t = 0; t < tok.length; t++) {
                        float[] got = d.next(tok[t]);
                        for (int o = 0; o < 96; o++) {
                            double diff = Math.abs(got[o] - want[t * 96 + o]);
                            worst = Math.max(worst, diff);
                            assertTrue(diff <= TOLERANCE, name + " sequence " + s + " position " + t + " logit " + o
                                    + ": " + got[o] + " vs reference " + want[t * 96 + o]);
                        }
                    }
                }
                System.out.println(name + " (" + threads + " threads): largest difference from the reference " + worst);
            }
        }
    }
}
