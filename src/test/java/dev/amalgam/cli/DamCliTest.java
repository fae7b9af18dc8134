package dev.amalgam.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.amalgam.cli.MergeCliTest.amalgam;
import static org.junit.jupiter.api.Assertions.*;

/** amalgam dam sample / fit / eval through the CLI, and clear errors for bad token files. */
class DamCliTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void models() {
        String[] shape = {"--layers", "1", "--hidden", "32", "--intermediate", "48", "--vocab", "64", "--dtype", "float32"};
        assertEquals(0, amalgam(MergeCliTest.concat(new String[]{"sample-model", p("base"), "--seed", "1"}, shape)).code());
        for (String m : new String[]{"a", "b"}) {
            var r = amalgam(MergeCliTest.concat(new String[]{"sample-model", p(m), "--seed", m.equals("a") ? "2" : "3",
                    "--like", p("base"), "--delta-scale", "0.08"}, shape));
            assertEquals(0, r.code(), r.err());
        }
    }

    static String p(String name) {
        return dir.resolve(name).toString();
    }

    MergeCliTest.Run fit(String tokens, String out) {
        return amalgam("dam", "fit", "--models", p("a") + "," + p("b"), "--tokens", tokens, "--steps", "3",
                "--seq-len", "8", "--out", p(out));
    }

    @Test
    void samplesFitsAndEvaluates() {
        var s = amalgam("dam", "sample", "--model", p("a"), "--count", "10", "--length", "8", "--out", p("tokens.txt"));
        assertEquals(0, s.code(), s.err());
        var r = fit(p("tokens.txt"), "coef");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("step 3/3"), r.err());
        assertTrue(r.out().contains("linear, equal weights 1/2:") && r.out().contains("dam, fitted coefficients:"), r.out());
        assertTrue(r.out().contains("train: 8 sequences (64 positions), held out: 2 sequences (16 positions)"), r.out());
        var e = amalgam("dam", "eval", "--models", p("a") + "," + p("b"), "--merged", p("a"), "--tokens", p("tokens.txt"));
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("sum:"), e.out());
    }

    @Test
    void badTokenFilesAreOneLineErrorsWithTheLineNumber() throws IOException {
        Files.writeString(dir.resolve("word.txt"), "1 2 3\n\n4 five 6\n");
        var r = fit(p("word.txt"), "x1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("word.txt:3: token 2 \"five\" is not an integer token id"), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());

        Files.writeString(dir.resolve("range.txt"), "1 2 3\n4 64 6\n");
        r = fit(p("range.txt"), "x2");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("range.txt:2: token id 64 is outside the vocabulary [0, 64)"), r.err());

        Files.writeString(dir.resolve("empty.txt"), "# nothing\n\n");
        r = fit(p("empty.txt"), "x3");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("empty.txt: no sequences"), r.err());

        Files.writeString(dir.resolve("one.txt"), "1 2 3\n");
        r = fit(p("one.txt"), "x4");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("leave none for training"), r.err());
        assertFalse(Files.exists(dir.resolve("x4")));

        r = fit(p("missing.txt"), "x5");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no such file"), r.err());
    }
}
