package dev.amalgam.scan;

import dev.amalgam.scan.jinja.TemplateJudgeTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Seeded mutations of templates, NumPy headers and archives: nothing escapes the scanner, nothing deep overflows the stack. */
class ParserFuzzTest {
    private static final String ALPHABET = "{}%#-+()[]'\"._|~*,:=!<>\\ \nabcx0129";

    @Test
    void mutatedTemplatesNeverThrowAndAreJudgedOrRefused() {
        SplittableRandom rnd = new SplittableRandom(1515);
        String seed = TemplateJudgeTest.BENIGN;
        for (int i = 0; i < 800; i++) {
            StringBuilder t = new StringBuilder(seed);
            for (int e = 1 + rnd.nextInt(4); e > 0; e--) {
                int at = rnd.nextInt(t.length());
                switch (rnd.nextInt(3)) {
                    case 0 -> t.setCharAt(at, ALPHABET.charAt(rnd.nextInt(ALPHABET.length())));
                    case 1 -> t.deleteCharAt(at);
                    default -> t.insert(at, ALPHABET.charAt(rnd.nextInt(ALPHABET.length())));
                }
            }
            List<Finding> out = new ArrayList<>();
            ChatTemplates.judge(t.toString(), "fuzz", out);
        }
    }

    @Test
    void deeplyNestedInputIsRefusedNotOverflowed() {
        for (String deep : new String[] {"{{ " + "(".repeat(100_000) + "x" + ")".repeat(100_000) + " }}",
            "{{ " + "-".repeat(100_000) + "1 }}", "{{ " + "not ".repeat(50_000) + "x }}",
            "{% if x %}".repeat(20_000) + "{% endif %}".repeat(20_000), "{{ " + "[".repeat(50_000) + " }}"}) {
            List<Finding> out = new ArrayList<>();
            ChatTemplates.judge(deep, "deep", out);
            assertEquals("unscannable.template", out.getFirst().rule(), deep.substring(0, 20));
        }
        String npy = "{'descr': " + "(".repeat(50_000) + "'O'" + ")".repeat(50_000) + ", 'fortran_order': False, 'shape': (1,), }";
        List<Finding> out = new ArrayList<>();
        Scanner.content(RepositoryRulesTest.npy(npy, new byte[8]), "deep.npy", Format.NUMPY, 0, out);
        assertEquals("unscannable.numpy", out.getFirst().rule());
        String deep150 = "{'descr': " + "(".repeat(150) + "'O'" + ")".repeat(150) + ", 'fortran_order': False, 'shape': (1,), }";
        List<Finding> out150 = new ArrayList<>();
        Scanner.content(RepositoryRulesTest.npy(deep150, Pickles.osSystem()), "deep150.npy", Format.NUMPY, 0, out150);
        assertEquals("numpy.object-array", out150.getFirst().rule(), "150 levels are within what Python parses");
    }

    @Test
    void mutatedNumpyTarAndGzipFilesNeverThrow() throws Exception {
        SplittableRandom rnd = new SplittableRandom(16);
        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(gz)) {
            z.write(Pickles.osSystem());
        }
        byte[][] seeds = {RepositoryRulesTest.npy("{'descr': [('a', '<f4'), ('b', ('O', (2,)))], 'fortran_order': False, 'shape': (1,), }",
                Pickles.osSystem()), RepositoryRulesTest.tar("pickle", Pickles.osSystem()), gz.toByteArray(),
            RepositoryRulesTest.gguf("tokenizer.chat_template", "{{ x }}")};
        for (int i = 0; i < 800; i++) {
            byte[] m = seeds[i % seeds.length].clone();
            for (int e = 1 + rnd.nextInt(3); e > 0; e--) {
                int at = rnd.nextInt(m.length);
                if (rnd.nextBoolean()) m[at] = (byte) rnd.nextInt(256);
                else m = Arrays.copyOf(m, Math.max(1, at));
            }
            List<Finding> out = new ArrayList<>();
            Scanner.content(m, "fuzz", Format.sniff(m, m.length), 0, out);
            for (Finding f : out) assertFalse(f.message().contains("Exception") || f.message().contains("out of bounds"), f.toString());
        }
    }
}
