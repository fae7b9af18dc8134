package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.amalgam.eval.EvalResult;
import dev.amalgam.eval.Evaluator;
import dev.amalgam.safetensors.SafetensorsFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code amalgam eval MODEL --data FILE [--reference MODEL ...]}: perplexity, KL, top-1 agreement, throughput. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a model on token data with the built-in forward pass (llama, mistral, qwen2 families; F32 on the CPU):"
                + " perplexity, the share of non-finite logits and tokens/s, and against each reference model the mean"
                + " KL(p_reference || p_model) per position and the share of positions whose top-1 token agrees.",
                "The data is a token file: one sequence per line, integer token ids separated by spaces (blank lines and"
                        + " lines starting with # are skipped). Plain text is refused: amalgam has no tokenizer, so"
                        + " tokenize with the model's own tokenizer first."},
        footer = {"", "Example:", "  amalgam eval ./merged --data heldout.tokens --reference ./base --reference ./a"})
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "model folder (config.json and safetensors weights)")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "token file")
    Path data;

    @Option(names = "--reference", paramLabel = "MODEL", description = "reference model folder (repeatable; same vocabulary)")
    List<Path> references = List.of();

    @Option(names = "--seq-len", defaultValue = "128", paramLabel = "L",
            description = "window length: longer lines are cut into windows of L tokens (default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores); never changes a number")
    Integer threads;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Override
    public Integer call() throws IOException {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        boolean tty = System.console() != null && System.console().isTerminal();
        EvalResult r;
        try {
            if (!Files.isDirectory(model)) throw new CliException(model + ": not a model folder");
            for (Path ref : references) if (!Files.isDirectory(ref)) throw new CliException(ref + ": not a model folder");
            var req = new Evaluator.Request(model, references, data, seqLen,
                    threads != null ? threads : Runtime.getRuntime().availableProcessors());
            long[] last = {0};
            r = Evaluator.run(req, (done, total, tokensDone, tokensTotal, rate) -> {
                long now = System.nanoTime();
                if (done < total && now - last[0] < (tty ? 200_000_000L : 10_000_000_000L)) return;
                last[0] = now;
                err.printf(Locale.ROOT, tty ? "\rwindow %d/%d  %d/%d tokens  %.1f tokens/s " : "window %d/%d  %d/%d tokens  %.1f tokens/s%n",
                        done, total, tokensDone, tokensTotal, rate);
                if (tty && done == total) err.println();
                err.flush();
            });
        } catch (SafetensorsFormatException | IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        if (json) {
            ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            out.println(m.writeValueAsString(r.toJson(m)));
            return 0;
        }
        out.printf(Locale.ROOT, "data %s: %d tokens in %d windows of at most %d, %d predicted positions%n",
                r.dataDigest(), r.tokens(), r.windows(), r.settings().seqLen(), r.predicted());
        out.printf(Locale.ROOT, "perplexity          %.6f (mean NLL %.6f nats)%n", r.perplexity(), r.meanNll());
        out.printf(Locale.ROOT, "non-finite logits   %.6g%n", r.nonFiniteFraction());
        for (EvalResult.Reference ref : r.references()) {
            out.printf(Locale.ROOT, "vs %s: KL(ref || model) %.6f per position, top-1 agreement %.4f%n", ref.name(), ref.kl(), ref.top1Agreement());
        }
        out.printf(Locale.ROOT, "throughput          %.1f tokens/s (%d threads, %s kernels)%n", r.tokensPerSecond(),
                r.settings().threads(), r.settings().kernels());
        return 0;
    }
}
