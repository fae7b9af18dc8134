package dev.amalgam.cli;

import dev.amalgam.eval.EvalBenchmark;
import dev.amalgam.merge.SampleModel;
import dev.amalgam.model.kernel.MatVecs;
import dev.amalgam.safetensors.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code amalgam bench eval}: batch-1 tokens/s of the evaluation forward pass against the memory-bandwidth bound. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Measure amalgam eval's batch-1 decoding speed against the memory-bandwidth bound (bytes of the"
                + " matrices a token reads vs memory-copy bandwidth, both measured in this run) on a generated BF16"
                + " llama model or a given one, with the vector kernels, 1 thread and all threads.")
final class EvalBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--size", defaultValue = "100m", paramLabel = "SIZE",
            description = "generated model: 100m (12 x 768, vocab 32000), 1b (16 x 2048, vocab 32000) or tiny (test size) (default: ${DEFAULT-VALUE})")
    String size;

    @Option(names = "--model", paramLabel = "DIR", description = "benchmark this model folder instead of a generated one")
    Path model;

    @Option(names = "--tokens", defaultValue = "32", paramLabel = "N", description = "tokens per timed round (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N", description = "timed rounds, best kept (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--scalar", description = "also measure the scalar twin (1 thread)")
    boolean scalar;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = model, temp = null;
        if (dir == null) {
            SampleModel.Spec s = switch (size) {
                case "100m" -> new SampleModel.Spec("llama", 12, 768, 2048, 32000, 1, DType.BF16);
                case "1b" -> new SampleModel.Spec("llama", 16, 2048, 5632, 32000, 1, DType.BF16);
                case "tiny" -> new SampleModel.Spec("llama", 2, 128, 256, 512, 1, DType.BF16);
                default -> throw new CliException("--size must be 100m, 1b or tiny, not " + size);
            };
            temp = Files.createTempDirectory("amalgam-eval-bench");
            dir = temp.resolve("model");
            SampleModel.write(dir, s, null, 0);
        }
        try {
            int all = Runtime.getRuntime().availableProcessors();
            out.printf(Locale.ROOT, "model %s: %.1fM parameters; kernels %s%n", model != null ? model : size + " (generated, BF16)",
                    EvalBenchmark.parameters(dir) / 1e6, MatVecs.describe());
            out.printf("%-10s %7s %10s %12s %10s %12s %8s%n", "kernels", "threads", "MB/token", "copy GB/s", "tokens/s", "bound tok/s", "of bound");
            if (scalar) print(out, EvalBenchmark.run(dir, tokens, repeats, 1, MatVecs.scalar()));
            for (int t : all > 1 ? new int[]{1, all} : new int[]{1}) print(out, EvalBenchmark.run(dir, tokens, repeats, t, MatVecs.get()));
            return 0;
        } finally {
            if (temp != null) delete(temp);
        }
    }

    private static void print(PrintWriter out, EvalBenchmark.Result r) {
        out.printf(Locale.ROOT, "%-10s %7d %10.1f %12.2f %10.2f %12.2f %8.2f%n", r.kernels(), r.threads(), r.bytesPerToken() / 1e6,
                r.copyGbPerSecond(), r.tokensPerSecond(), r.boundTokensPerSecond(), r.ofBound());
        out.flush();
    }

    private static void delete(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        }
    }
}
