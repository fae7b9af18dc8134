package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.amalgam.cli.MergeCliTest.amalgam;
import static org.junit.jupiter.api.Assertions.*;

/** amalgam eval through the CLI: metrics, JSON, and one-line errors for every bad input. */
class EvalCliTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void models() throws IOException {
        String[] shape = {"--layers", "2", "--hidden", "64", "--intermediate", "96", "--vocab", "64"};
        assertEquals(0, amalgam(MergeCliTest.concat(new String[]{"sample-model", p("base"), "--seed", "1"}, shape)).code());
        var r = amalgam(MergeCliTest.concat(new String[]{"sample-model", p("tuned"), "--seed", "2", "--like", p("base"),
                "--delta-scale", "0.5"}, shape));
        assertEquals(0, r.code(), r.err());
        assertEquals(0, amalgam("sample-model", p("small"), "--layers", "1", "--hidden", "64", "--intermediate", "96",
                "--vocab", "32", "--seed", "3").code());
        Files.writeString(dir.resolve("data.txt"), "# held-out\n1 5 9 13 2 7 40 63 0 11\n3 3 3 8\n");
    }

    static String p(String name) {
        return dir.resolve(name).toString();
    }

    @Test
    void reportsPerplexityKlAgreementAndThroughput() {
        var r = amalgam("eval", p("tuned"), "--data", p("data.txt"), "--reference", p("base"), "--reference", p("tuned"),
                "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("14 tokens in 2 windows of at most 128, 12 predicted positions"), r.out());
        assertTrue(r.out().contains("perplexity"), r.out());
        assertTrue(r.out().contains("vs " + p("tuned") + ": KL(ref || model) 0.000000 per position, top-1 agreement 1.0000"), r.out());
        assertTrue(r.out().contains("tokens/s (1 threads"), r.out());
    }

    @Test
    void jsonIsTheSameForAnyThreadCountButTheSpeed() throws IOException {
        ObjectMapper m = new ObjectMapper();
        JsonNode[] runs = new JsonNode[2];
        for (int t = 1; t <= 2; t++) {
            var r = amalgam("eval", p("tuned"), "--data", p("data.txt"), "--reference", p("base"), "--json", "--threads", "" + t,
                    "--seq-len", "4");
            assertEquals(0, r.code(), r.err());
            runs[t - 1] = m.readTree(r.out());
        }
        for (JsonNode j : runs) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) j.get("metrics")).remove("tokensPerSecond");
            ((com.fasterxml.jackson.databind.node.ObjectNode) j.get("settings")).remove("threads");
        }
        assertEquals(runs[0], runs[1]);
        assertEquals(4, runs[0].get("metrics").get("windows").asInt()); // 10 tokens as 4 + 4 + 2, and 4
        assertTrue(runs[0].get("references").get(0).get("kl").asDouble() > 0);
    }

    private void assertOneLineError(MergeCliTest.Run r, String expected) {
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
    }

    @Test
    void badInputIsAOneLineError() throws IOException {
        Files.writeString(dir.resolve("text.txt"), "The quick brown fox\n");
        assertOneLineError(amalgam("eval", p("base"), "--data", p("text.txt")), "looks like plain text");
        Files.writeString(dir.resolve("big.txt"), "1 2 3\n4 64 5\n");
        assertOneLineError(amalgam("eval", p("base"), "--data", p("big.txt")), "big.txt:2: token id 64 is outside the vocabulary [0, 64)");
        Files.writeString(dir.resolve("empty.txt"), "# nothing\n\n");
        assertOneLineError(amalgam("eval", p("base"), "--data", p("empty.txt")), "no sequences");
        Files.writeString(dir.resolve("single.txt"), "5\n7\n");
        assertOneLineError(amalgam("eval", p("base"), "--data", p("single.txt")), "no position to predict");
        assertOneLineError(amalgam("eval", p("base"), "--data", p("data.txt"), "--reference", p("small")),
                "vocab_size 32 differs from the model's 64");
        assertOneLineError(amalgam("eval", p("base"), "--data", p("missing.txt")), "missing.txt: no such file");
        assertOneLineError(amalgam("eval", p("nowhere"), "--data", p("data.txt")), "not a model folder");
        assertOneLineError(amalgam("eval", p("base"), "--data", p("data.txt"), "--seq-len", "1"), "--seq-len must be at least 2");
    }

    @Test
    void anUnimplementedConfigFieldIsAnError() throws IOException {
        var c = amalgam("sample-model", p("scaled"), "--layers", "1", "--hidden", "64", "--intermediate", "96", "--vocab", "64");
        assertEquals(0, c.code(), c.err());
        Path config = dir.resolve("scaled/config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\\{", "{\"rope_scaling\": {\"type\": \"longrope\", \"factor\": 2},"));
        assertOneLineError(amalgam("eval", p("scaled"), "--data", p("data.txt")), "rope_scaling type longrope is not implemented");
    }
}
