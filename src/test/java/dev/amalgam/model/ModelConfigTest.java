package dev.amalgam.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Every config field is implemented, known to change nothing, or an error naming it. */
class ModelConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static ObjectNode llama() {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama").put("hidden_size", 64).put("intermediate_size", 96).put("num_hidden_layers", 2)
                .put("num_attention_heads", 4).put("num_key_value_heads", 2).put("vocab_size", 96)
                .put("rms_norm_eps", 1e-5).put("max_position_embeddings", 128).put("bos_token_id", 1).put("torch_dtype", "bfloat16");
        return c;
    }

    private static String error(JsonNode c) {
        return assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(c, "m/config.json")).getMessage();
    }

    @Test
    void aPlainLlamaConfigReadsWithDefaults() {
        ModelConfig m = ModelConfig.parse(llama(), "m/config.json");
        assertEquals(16, m.headDim());
        assertEquals(Activation.SILU, m.activation());
        assertEquals(RopeScaling.Type.DEFAULT, m.ropeScaling().type());
        assertFalse(m.qkvBias() || m.outputBias() || m.mlpBias() || m.tieWordEmbeddings());
        assertEquals(10000.0, m.ropeTheta());
    }

    @Test
    void qwen2AlwaysHasQkvBiasesButNoOutputBias() {
        ObjectNode c = llama();
        c.putArray("architectures").add("Qwen2ForCausalLM");
        c.put("model_type", "qwen2").put("use_sliding_window", false).put("sliding_window", 4096);
        ModelConfig m = ModelConfig.parse(c, "m/config.json");
        assertTrue(m.qkvBias());
        assertFalse(m.outputBias());
        assertNull(m.slidingWindow());
    }

    @Test
    void anUnknownFieldIsAnErrorNamingIt() {
        assertEquals("m/config.json: config field quantization_config is not implemented by the forward pass"
                + " (it would change the model's outputs or cannot be judged)", error(llama().put("quantization_config", "x")));
    }

    @Test
    void unknownArchitecturesAndMismatchedModelTypesAreErrors() {
        ObjectNode c = llama();
        c.putArray("architectures").add("GemmaForCausalLM");
        assertTrue(error(c).contains("architecture GemmaForCausalLM is not implemented"), error(c));
        assertTrue(error(llama().put("model_type", "qwen2")).contains("model_type qwen2 does not match LlamaForCausalLM"));
        assertTrue(error((ObjectNode) llama().without("architectures")).contains("no architectures entry"));
    }

    @Test
    void ropeScalingIsParsedOrRefusedByField() {
        ObjectNode c = llama();
        c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 64);
        assertEquals(RopeScaling.Type.LLAMA3, ModelConfig.parse(c, "m").ropeScaling().type());
        c.putObject("rope_scaling").put("type", "longrope").put("factor", 2.0);
        assertTrue(error(c).contains("rope_scaling type longrope is not implemented"), error(c));
        c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0).put("beta_fast", 3);
        assertTrue(error(c).contains("rope_scaling field beta_fast is not implemented for type linear"), error(c));
        c.putObject("rope_scaling").put("type", "linear").put("factor", -1);
        assertTrue(error(c).contains("rope_scaling factor must be a positive number"), error(c));
        c.putObject("rope_scaling").put("type", "yarn").put("factor", 4.0).put("original_max_position_embeddings", 64);
        assertTrue(error(c).contains("transformers versions disagree"), error(c)); // 128 / 64 = 2, not 4
        c.putObject("rope_scaling").put("type", "yarn").put("factor", 2.0).put("original_max_position_embeddings", 64);
        assertEquals(RopeScaling.Type.YARN, ModelConfig.parse(c, "m").ropeScaling().type());
        c.remove("max_position_embeddings");
        c.putObject("rope_scaling").put("type", "dynamic").put("factor", 2.0);
        assertTrue(error(c).contains("rope_scaling dynamic needs max_position_embeddings"), error(c));
    }

    @Test
    void unimplementedValuesOfKnownFieldsAreErrors() {
        assertTrue(error(llama().put("hidden_act", "gelu_10")).contains("hidden_act gelu_10 is not implemented"));
        assertTrue(error(llama().put("pretraining_tp", 2)).contains("pretraining_tp 2 is not implemented"));
        assertTrue(error(llama().put("sliding_window", 128)).contains("sliding_window is not implemented for llama"));
        assertTrue(error(llama().put("hidden_size", "64")).contains("hidden_size is not an integer"));
        assertTrue(error(llama().put("num_key_value_heads", 3)).contains("not a multiple of num_key_value_heads 3"));
        ObjectNode q = llama();
        q.putArray("architectures").add("Qwen2ForCausalLM");
        q.put("model_type", "qwen2").put("use_sliding_window", true);
        assertTrue(error(q).contains("use_sliding_window true is not implemented"));
        ObjectNode lt = llama();
        lt.putArray("layer_types").add("full_attention").add("sliding_attention");
        assertTrue(error(lt).contains("layer_types entry sliding_attention is not implemented"));
    }

    @Test
    void aFolderWithoutConfigOrWithBrokenJsonIsAClearError(@TempDir Path dir) throws Exception {
        assertEquals(dir + ": no config.json", assertThrows(IllegalArgumentException.class, () -> ModelConfig.read(dir)).getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": ");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelConfig.read(dir)).getMessage().contains("not JSON"));
    }

    @Test
    void erfAgreesWithKnownValues() {
        // erf values to 15 digits (Abramowitz and Stegun, table 7.1 and the usual references)
        assertEquals(0.0, Activation.erf(0.0));
        assertEquals(0.520499877813047, Activation.erf(0.5), 1e-14);
        assertEquals(0.842700792949715, Activation.erf(1.0), 1e-14);
        assertEquals(0.995322265018953, Activation.erf(2.0), 1e-14);
        assertEquals(0.999593047982555, Activation.erf(2.5), 1e-14);
        assertEquals(0.999977909503001, Activation.erf(3.0), 1e-14);
        assertEquals(-0.999999984582742, Activation.erf(-4.0), 1e-14);
        assertEquals(1.0, Activation.erf(7.0));
    }
}
