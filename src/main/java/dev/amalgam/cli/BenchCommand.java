package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.merge.MergeBenchmark;
import dev.amalgam.merge.kernel.Kernels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code amalgam bench}: merge-core throughput against memory bandwidth and NumPy, in one run. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = EvalBenchCommand.class,
        description = "Measure memory-copy bandwidth and BF16 merge throughput (linear, ties; 1 and all threads),"
                + " plus a NumPy baseline of the same merges; 'bench eval' measures amalgam eval's decoding speed.",
        footer = {"", "Example:", "  amalgam bench eval --size 100m"})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--elements", defaultValue = "33554432", description = "elements per tensor (default: ${DEFAULT-VALUE})")
    long elements;

    @Option(names = "--repeats", defaultValue = "3")
    int repeats;

    @Option(names = "--no-numpy", description = "skip the NumPy baseline")
    boolean noNumpy;

    @Option(names = "--python", defaultValue = "python3")
    String python;

    /** The one-thread results, the ones the NumPy baseline is compared with. */
    private MergeBenchmark.Measurement single;
    private MergeBenchmark.Measurement singleTies;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int all = Runtime.getRuntime().availableProcessors();
        out.printf("kernels %s, %d elements per tensor, best of %d rounds (each round runs every measurement once), %d cores%n", Kernels.choice().describe(), elements, repeats, all);
        var bench = new MergeBenchmark(elements, repeats);
        int[] threadCounts = all > 1 ? new int[]{1, all} : new int[]{1};
        out.printf("%-32s %7s %9s %9s %s%n", "measurement", "threads", "seconds", "GB/s", "ratio");
        for (int t : threadCounts) {
            List<MergeBenchmark.Measurement> m;
            try (Arena arena = Arena.ofShared()) {
                MergeBenchmark.Inputs inputs = bench.inputs(arena, t);
                m = bench.measureTogether(t, List.of(bench.copy(arena, t), bench.readInputs(arena, t),
                        bench.linear(arena, inputs), bench.linearToMemory(arena, inputs), bench.linearInCache(arena, t),
                        bench.taskArithmetic(arena, inputs), bench.ties(arena, inputs)));
            }
            var copy = m.get(0);
            var read = m.get(1);
            var linear = m.get(2);
            var toRam = m.get(3);
            var inCache = m.get(4);
            var task = m.get(5);
            var ties = m.get(6);
            print(out, copy, "1.00 of copy");
            print(out, read, ofCopy(read, copy, ""));
            print(out, linear, ofCopy(linear, copy,
                    String.format("; reading alone takes %.2f of its time", read.seconds() / linear.seconds())));
            print(out, toRam, ofCopy(toRam, copy, ""));
            print(out, inCache, ofCopy(inCache, copy, " (arithmetic alone)"));
            print(out, task, ofCopy(task, copy, ""));
            print(out, ties, ofCopy(ties, copy, String.format(", %.2fx linear time", ties.seconds() / linear.seconds())));
            if (t == 1) {
                single = linear;
                singleTies = ties;
            }
        }
        if (!noNumpy) numpy(out);
        return 0;
    }

    private static String ofCopy(MergeBenchmark.Measurement m, MergeBenchmark.Measurement copy, String more) {
        return String.format("%.2f of copy", m.gbPerSecond() / copy.gbPerSecond()) + more;
    }

    private static void print(PrintWriter out, MergeBenchmark.Measurement m, String ratio) {
        out.printf("%-32s %7d %9.4f %9.2f %s%n", m.name(), m.threads(), m.seconds(), m.gbPerSecond(), ratio);
        out.flush();
    }

    private void numpy(PrintWriter out) throws Exception {
        Path script = Files.createTempFile("amalgam-numpy-bench", ".py");
        try (InputStream in = BenchCommand.class.getResourceAsStream("/amalgam/bench/numpy_merge.py")) {
            Files.write(script, in.readAllBytes());
            long n = Math.min(elements, 16L << 20); // NumPy ties allocates several copies
            Process p = new ProcessBuilder(python, script.toString(), Long.toString(n), Integer.toString(repeats))
                    .redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                out.println("numpy baseline failed: " + text);
                return;
            }
            JsonNode r = new ObjectMapper().readTree(text.substring(text.lastIndexOf('{')));
            double bytes = 4.0 * 2 * r.get("elements").asLong();
            double lin = bytes / r.get("linear_seconds").asDouble() / 1e9;
            double ties = bytes / r.get("ties_seconds").asDouble() / 1e9;
            print(out, new MergeBenchmark.Measurement("numpy linear bf16 3->1", 1, r.get("linear_seconds").asDouble(), (long) bytes),
                    String.format("amalgam 1 thread is %.1fx faster", single.gbPerSecond() / lin));
            print(out, new MergeBenchmark.Measurement("numpy ties bf16 3->1", 1, r.get("ties_seconds").asDouble(), (long) bytes),
                    String.format("amalgam 1 thread is %.1fx faster", singleTies.gbPerSecond() / ties));
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
