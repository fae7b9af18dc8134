package dev.amalgam.cli;

import dev.amalgam.dam.DamFit;
import dev.amalgam.dam.FitJob;
import dev.amalgam.dam.Sampler;
import dev.amalgam.safetensors.SafetensorsFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code amalgam dam ...}: learned merge coefficients (Differentiable Adaptive Merging). */
@Command(name = "dam", mixinStandardHelpOptions = true,
        description = "Differentiable Adaptive Merging: learn per-column merge coefficients for merge_method: dam.",
        subcommands = {DamCommand.Fit.class, DamCommand.Sample.class, DamCommand.Eval.class},
        footer = {"", "Example:", "  amalgam dam fit --models ./a,./b --tokens tokens.txt --out ./dam-coef"})
final class DamCommand {

    /** {@code amalgam dam fit --models A,B --tokens FILE --out DIR ...}. */
    @Command(name = "fit", mixinStandardHelpOptions = true,
            description = {"Learn DAM coefficients for small llama-style models on the CPU (F32, plain gradient descent)"
                    + " by minimising the KL divergence of the merged model from every source model on token sequences.",
                    "The token file holds one sequence per line: integer token ids separated by spaces"
                            + " (blank lines and lines starting with # are skipped)."})
    static final class Fit implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--models", required = true, split = ",", paramLabel = "DIR",
                description = "the source model folders, in the order of the recipe's models:")
        List<Path> models;

        @Option(names = "--tokens", required = true, paramLabel = "FILE", description = "calibration sequences")
        Path tokens;

        @Option(names = "--held-out", paramLabel = "FILE", description = "held-out sequences (default: a fraction of --tokens)")
        Path heldOut;

        @Option(names = "--held-out-fraction", defaultValue = "0.2", paramLabel = "F",
                description = "share of the --tokens lines held out, chosen with --seed (default: ${DEFAULT-VALUE})")
        double heldOutFraction;

        @Option(names = "--steps", defaultValue = "100", paramLabel = "N", description = "gradient steps (default: ${DEFAULT-VALUE})")
        int steps;

        @Option(names = "--lr", defaultValue = "10", paramLabel = "X", description = "learning rate (default: ${DEFAULT-VALUE})")
        double lr;

        @Option(names = "--seq-len", defaultValue = "64", paramLabel = "L",
                description = "longest sequence; longer lines are cut into windows (default: ${DEFAULT-VALUE})")
        int seqLen;

        @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T",
                description = "softmax temperature of the training KL (default: ${DEFAULT-VALUE})")
        double temperature;

        @Option(names = "--lambda-cos", defaultValue = "0.01", description = "cosine-similarity regulariser (default: ${DEFAULT-VALUE})")
        double lambdaCos;

        @Option(names = "--lambda-l1", defaultValue = "1e-6", description = "L1 regulariser (default: ${DEFAULT-VALUE})")
        double lambdaL1;

        @Option(names = "--lambda-l2", defaultValue = "1e-6", description = "L2 regulariser (default: ${DEFAULT-VALUE})")
        double lambdaL2;

        @Option(names = "--linear-only", description = "learn only the linear layers' coefficients; embeddings and norms keep 1/M")
        boolean linearOnly;

        @Option(names = "--seed", defaultValue = "0", description = "seed of the held-out split (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores); never changes the output")
        Integer threads;

        @Option(names = "--eval-every", paramLabel = "N", description = "held-out evaluation interval in steps (default: steps/10)")
        Integer evalEvery;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "coefficients folder to write (must not exist or be empty)")
        Path out;

        @Override
        public Integer call() throws IOException {
            var err = spec.commandLine().getErr();
            var o = spec.commandLine().getOut();
            DamFit.Settings settings;
            try {
                settings = new DamFit.Settings(steps, lr, temperature, lambdaCos, lambdaL1, lambdaL2, linearOnly,
                        threads != null ? threads : Runtime.getRuntime().availableProcessors(),
                        evalEvery != null ? evalEvery : Math.max(1, steps / 10));
            } catch (IllegalArgumentException e) {
                throw new CliException(e.getMessage());
            }
            long started = System.nanoTime();
            FitJob.Outcome outcome;
            try {
                outcome = FitJob.run(new FitJob.Request(models, tokens, heldOut, heldOutFraction, seqLen, seed, settings, out),
                        s -> {
                            err.printf(Locale.ROOT, "step %d/%d  train loss %.6f  kl %.6f%s%n", s.step(), steps, s.trainLoss(),
                                    s.trainKl(), Double.isNaN(s.heldOutKl()) ? "" : String.format(Locale.ROOT, "  held-out kl %.6f", s.heldOutKl()));
                            err.flush();
                        });
            } catch (SafetensorsFormatException e) {
                throw new CliException(e.getMessage());
            }
            var r = outcome.result();
            err.printf(Locale.ROOT, "fitted in %.1f s%n", (System.nanoTime() - started) / 1e9);
            o.printf(Locale.ROOT, "train: %d sequences (%d positions), held out: %d sequences (%d positions)%n",
                    outcome.trainSequences(), outcome.trainPositions(), outcome.heldOutSequences(), outcome.heldOutPositions());
            o.println("held-out KL, mean per position of the sum over models of KL(p_model || p_merged):");
            o.printf(Locale.ROOT, "  linear, equal weights 1/%d: %.6f%n", models.size(), r.linearHeldOutKl());
            o.printf(Locale.ROOT, "  dam, fitted coefficients:  %.6f (%+.1f%%)%n", r.fittedHeldOutKl(),
                    100 * (r.fittedHeldOutKl() - r.linearHeldOutKl()) / r.linearHeldOutKl());
            o.printf("wrote %s (use it as parameters: {coefficients: %s} with merge_method: dam)%n", outcome.out(), out);
            return 0;
        }
    }

    /** {@code amalgam dam sample --model DIR --count N --length L}: calibration sequences drawn from a model. */
    @Command(name = "sample", mixinStandardHelpOptions = true,
            description = "Sample token sequences from a small llama-style model (one sequence per line, the format dam fit reads).")
    static final class Sample implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR")
        Path model;

        @Option(names = "--count", defaultValue = "100", paramLabel = "N", description = "sequences (default: ${DEFAULT-VALUE})")
        int count;

        @Option(names = "--length", defaultValue = "32", paramLabel = "L", description = "tokens per sequence (default: ${DEFAULT-VALUE})")
        int length;

        @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T", description = "sampling temperature (default: ${DEFAULT-VALUE})")
        double temperature;

        @Option(names = "--seed", defaultValue = "0", description = "random seed (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "token file to write")
        Path out;

        @Override
        public Integer call() throws IOException {
            var seqs = Sampler.sample(model, count, length, temperature, seed);
            StringBuilder b = new StringBuilder();
            for (int[] s : seqs) {
                for (int i = 0; i < s.length; i++) b.append(i == 0 ? "" : " ").append(s[i]);
                b.append('\n');
            }
            Files.writeString(out, b.toString());
            spec.commandLine().getOut().printf("wrote %d sequences of %d tokens to %s%n", count, length, out);
            return 0;
        }
    }

    /** {@code amalgam dam eval --models A,B --merged DIR --tokens FILE}: a merged model's divergence from its sources. */
    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "Measure the KL divergence of a merged model (any method) from the source models on token sequences.")
    static final class Eval implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--models", required = true, split = ",", paramLabel = "DIR")
        List<Path> models;

        @Option(names = "--merged", required = true, paramLabel = "DIR")
        Path merged;

        @Option(names = "--tokens", required = true, paramLabel = "FILE")
        Path tokens;

        @Option(names = "--seq-len", defaultValue = "64", paramLabel = "L", description = "window length (default: ${DEFAULT-VALUE})")
        int seqLen;

        @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores)")
        Integer threads;

        @Override
        public Integer call() throws IOException {
            FitJob.Divergence d;
            try {
                d = FitJob.divergence(models, merged, tokens, seqLen, threads != null ? threads : Runtime.getRuntime().availableProcessors());
            } catch (SafetensorsFormatException e) {
                throw new CliException(e.getMessage());
            }
            var o = spec.commandLine().getOut();
            o.printf(Locale.ROOT, "%d sequences (%d positions); KL(p_model || p_merged), mean per position:%n", d.sequences(), d.positions());
            // a KL is never negative; rounding leaves about -1e-9 when the merged model is a source itself
            for (int m = 0; m < models.size(); m++) o.printf(Locale.ROOT, "  %s: %.6f%n", models.get(m), Math.max(0, d.perModel()[m]));
            o.printf(Locale.ROOT, "  sum: %.6f%n", d.total());
            return 0;
        }
    }
}
