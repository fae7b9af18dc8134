package dev.amalgam.eval;

import dev.amalgam.merge.MergeBenchmark;
import dev.amalgam.model.Decoder;
import dev.amalgam.model.ModelWeights;
import dev.amalgam.model.RowPool;
import dev.amalgam.model.kernel.MatVec;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

/**
 * Batch-1 decoding throughput against the memory-bandwidth bound, measured in one run: a token
 * reads every layer matrix and the output head once, so tokens/s can be at most copy bandwidth
 * divided by those bytes. Memory copy and decoding are timed in alternating rounds (best of each),
 * so both see the same machine state.
 */
public final class EvalBenchmark {
    /** One thread count's numbers. */
    public record Result(int threads, String kernels, long bytesPerToken, double copyGbPerSecond, double tokensPerSecond) {
        /** Tokens/s the copy bandwidth allows (bytes counted read + written, as STREAM does, so a read-only stream can reach it). */
        public double boundTokensPerSecond() {
            return copyGbPerSecond * 1e9 / bytesPerToken;
        }

        public double ofBound() {
            return tokensPerSecond / boundTokensPerSecond();
        }

        public double weightGbPerSecond() {
            return tokensPerSecond * bytesPerToken / 1e9;
        }
    }

    private EvalBenchmark() {
    }

    /** Decodes {@code tokens} tokens per round, {@code repeats} rounds after a warm-up, with {@code threads} threads. */
    public static Result run(Path model, int tokens, int repeats, int threads, MatVec kernel) throws Exception {
        if (tokens < 1 || repeats < 1) throw new IllegalArgumentException("--tokens and --repeats must be at least 1");
        try (ModelWeights w = ModelWeights.open(model); RowPool pool = new RowPool(threads, kernel); Arena arena = Arena.ofShared()) {
            Decoder d = new Decoder(w, pool, tokens);
            MergeBenchmark bench = new MergeBenchmark(0, 1);
            var copy = bench.copy(arena, threads);
            double bestCopy = Double.MAX_VALUE, bestDecode = Double.MAX_VALUE;
            int vocab = w.config().vocab();
            for (int r = 0; r <= repeats; r++) {
                double c = bench.measureTogether(threads, List.of(copy)).getFirst().seconds();
                long t0 = System.nanoTime();
                d.begin(tokens);
                int tok = 1 % vocab;
                for (int i = 0; i < tokens; i++) {
                    float[] z = d.next(tok);
                    tok = (int) ((tok * 31L + 7 + (z[0] > 0 ? 1 : 0)) % vocab);
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (r > 0) {
                    bestCopy = Math.min(bestCopy, c);
                    bestDecode = Math.min(bestDecode, s);
                }
            }
            return new Result(threads, kernel.name(), w.bytesPerToken(), copy.bytes() / bestCopy / 1e9, tokens / bestDecode);
        }
    }

    /** Parameters of a model folder's forward pass (from its config). */
    public static long parameters(Path model) throws IOException {
        return dev.amalgam.model.ModelConfig.read(model).parameters();
    }
}
