package dev.amalgam.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The documented benchmark commands (docs/benchmarks.md) at a small size: each runs and prints
 * its numbers, so none can rot unnoticed. No time is asserted.
 */
class BenchSmokeTest {
    private static final Pattern NUMBER = Pattern.compile("\\d+\\.\\d+");

    private static String run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Amalgam.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(0, code, err.toString());
        return out.toString();
    }

    @Test
    void amalgamBenchPrintsEveryMeasurementWithItsRate() {
        String out = run("bench", "--elements", "65536", "--repeats", "1", "--no-numpy");
        for (String name : List.of("copy", "linear", "ties", "task_arithmetic")) {
            assertTrue(out.lines().anyMatch(l -> l.contains(name) && l.contains("of copy")), name + " missing:\n" + out);
        }
        long rows = out.lines().filter(l -> l.contains("of copy")).count();
        assertTrue(rows >= 7, "seven measurements per thread count:\n" + out);
        out.lines().filter(l -> l.contains("of copy")).forEach(l -> {
            Matcher m = NUMBER.matcher(l);
            assertTrue(m.find() && m.find(), "seconds and GB/s in: " + l);
            double gbs = Double.parseDouble(m.group()); // printed with two decimals: may read 0.00 on a busy machine
            assertTrue(gbs >= 0 && Double.isFinite(gbs), l);
        });
    }

    @Test
    void evalBenchPrintsTokensPerSecondAgainstTheBound() {
        String out = run("bench", "eval", "--size", "tiny", "--tokens", "4", "--repeats", "1", "--scalar");
        assertTrue(out.contains("of bound"), out);
        long rows = out.lines().filter(l -> l.matches("^(scalar|vector-\\S+)\\s+\\d+\\s+.*")).count();
        assertTrue(rows >= 2, "the scalar row and a vector row per thread count:\n" + out);
    }

    @Test
    void digestBenchPrintsHashingRates(@TempDir Path tmp) {
        Path model = tmp.resolve("m");
        run("sample-model", model.toString(), "--layers", "1", "--hidden", "32", "--intermediate", "64", "--vocab", "64");
        PrintStream saved = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        String out;
        try {
            // digest prints to System.out
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            run("digest", model.toString(), "--bench", "--threads", "2");
        } finally {
            System.setOut(saved);
        }
        out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("sha256 in memory") && out.contains("manifest of"), out);
        assertEquals(3, out.lines().filter(l -> l.contains("MB/s")).count(), out);
    }
}
