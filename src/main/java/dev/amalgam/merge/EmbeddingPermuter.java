package dev.amalgam.merge;

import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.SourceModel;
import dev.amalgam.merge.recipe.TokenizerSpec;
import dev.amalgam.merge.tokenizer.OutputTokenizer;
import dev.amalgam.merge.tokenizer.Vocabulary;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.FloatFormats;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorInfo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays every merged model's embedding matrices (input embeddings and output head) out in the
 * output vocabulary before the merge method sees them, as mergekit's PermutedEmbeddings does.
 * Row i of a model's laid-out matrix is:
 * <ol>
 * <li>the model's own row for token i, unless the token's {@code tokenizer.tokens} entry is
 * forced;</li>
 * <li>otherwise the token's configured source (a model's row for it, another token's row, or
 * zeros);</li>
 * <li>otherwise, when only one merged model has the token, that model's row; when none has it,
 * zeros; when the base model has it, the base's row; else the average of the rows of the
 * models that have it (summed in F32 in recipe order, divided once, rounded once);</li>
 * <li>padding rows (pad_to_multiple_of) hold the mean of the vocabulary rows.</li>
 * </ol>
 * A model whose rows already line up (same tokens at the same ids, no padding, nothing forced)
 * is used as it is. The others are written to files in the staging folder and mapped, so
 * resident memory stays bounded; {@link #close} unmaps them.
 */
final class EmbeddingPermuter implements AutoCloseable {
    private final Path dir;
    private final MergeKernels kernels;
    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> laidOut = new HashMap<>();
    private int files;
    /** The dtype the model being laid out is rounded to (the recipe's dtype), or null. */
    private DType rounding;

    EmbeddingPermuter(Path dir, MergeKernels kernels) {
        this.dir = dir;
        this.kernels = kernels;
    }

    private static String key(String output, String model, String tensor) {
        return output + '\u0000' + model + '\u0000' + tensor;
    }

    /** The laid-out input for one output tensor, or null when the model's own tensor serves. */
    Tensor input(String output, String model, String tensor) {
        return laidOut.get(key(output, model, tensor));
    }

    /** Lays out the inputs of every embedding tensor of the plan. */
    void prepare(MergePlan plan, Map<String, SourceModel> models, OutputTokenizer vocab) throws IOException {
        for (MergePlan.Planned p : plan.tensors()) {
            if (!plan.architecture().embeddings().contains(p.name()) || p.shape().length != 2 || p.copyRaw()) continue;
            Map<String, Tensor> byModel = new java.util.LinkedHashMap<>();
            for (MergePlan.PlannedInput in : p.inputs()) byModel.put(in.model(), models.get(in.model()).weights().tensor(in.tensor()));
            for (MergePlan.PlannedInput in : p.inputs()) {
                Tensor t = layOut(p.name(), in.model(), byModel, vocab, p.inputDtype());
                if (t != null) laidOut.put(key(p.name(), in.model(), in.tensor()), t);
            }
        }
    }

    /**
     * One model's matrix in the output vocabulary, or null when its rows already line up. With
     * {@code roundTo} (the recipe's dtype) its rows, and the rows it borrows or averages from
     * other models, are rounded to that dtype first, as mergekit lays out inputs already cast to it.
     */
    private Tensor layOut(String output, String model, Map<String, Tensor> byModel, OutputTokenizer vocab,
                          DType roundTo) throws IOException {
        Tensor src = byModel.get(model);
        rounding = roundTo;
        int[] rowOf = vocab.rowsOf(model);
        int tokens = vocab.tokens().size(), rows = vocab.rows();
        long srcRows = src.info().dim(0);
        if (rows == tokens && tokens <= srcRows && !anyForced(vocab)) {
            boolean identity = true;
            for (int i = 0; i < tokens && identity; i++) identity = rowOf[i] == i;
            if (identity) return null;
        }
        long hidden = src.info().dim(1);
        if (hidden > Integer.MAX_VALUE) throw new RecipeException("tensor " + output + ": rows of " + hidden + " elements are too long");
        int h = (int) hidden;
        DType own = src.dtype(), dt = roundTo != null && own.roundsTo(roundTo) ? roundTo : own;
        long rowBytes = hidden * dt.byteSize();
        Files.createDirectories(dir);
        Path file = dir.resolve((files++) + ".bin");
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, rows * rowBytes, arena);
        }
        float[] row = new float[h], x = new float[h];
        // rows written so far, and the source rows read, leave the resident set every 64 MiB of
        // output (the page cache keeps them; a source row needed again is mapped back in)
        long batch = Math.max(1, (64L << 20) / rowBytes);
        for (int i = 0; i < tokens; i++) {
            if (i > 0 && i % batch == 0) {
                seg.asSlice((i - batch) * rowBytes, batch * rowBytes).unload();
                for (Tensor t : byModel.values()) if (t.data().isMapped()) t.data().unload();
            }
            String token = vocab.tokens().get(i);
            TokenizerSpec.TokenEmbedding cfg = vocab.spec().tokens().get(token);
            if (rowOf[i] >= 0 && (cfg == null || !cfg.force())) {
                if (rowOf[i] >= srcRows) throw tooShort(output, model, token, rowOf[i], srcRows);
                if (dt == own) {
                    MemorySegment.copy(src.data(), rowOf[i] * rowBytes, seg, i * rowBytes, rowBytes);
                } else {
                    kernels.load(src.data(), own, rowOf[i] * hidden, row, h);
                    kernels.store(row, h, seg, dt, i * hidden);
                }
            } else {
                defaultRow(output, i, token, cfg, byModel, vocab, row, x);
                kernels.store(row, h, seg, dt, i * hidden);
            }
        }
        if (rows > tokens) {
            double[] sum = new double[h];
            for (int i = 0; i < tokens; i++) {
                kernels.load(seg, dt, i * hidden, x, h);
                for (int c = 0; c < h; c++) sum[c] += x[c];
            }
            for (int c = 0; c < h; c++) row[c] = (float) (sum[c] / tokens);
            for (int i = tokens; i < rows; i++) kernels.store(row, h, seg, dt, i * hidden);
        }
        // out of this process's resident set until the merge reads it (the page cache keeps the
        // bytes): a 128k-token vocabulary lays out a gigabyte per model and matrix
        seg.unload();
        for (Tensor t : byModel.values()) if (t.data().isMapped()) t.data().unload();
        var info = new TensorInfo(src.name(), dt, new long[]{rows, hidden}, 0, rows * rowBytes);
        return new Tensor(info, seg, file.toString());
    }

    private static boolean anyForced(OutputTokenizer vocab) {
        for (var e : vocab.spec().tokens().values()) if (e.force()) return true;
        return false;
    }

    /** The row a model lacking token i (or forced) gets, in F32. */
    private void defaultRow(String output, int i, String token, TokenizerSpec.TokenEmbedding cfg,
                            Map<String, Tensor> byModel, OutputTokenizer vocab, float[] row, float[] x) {
        if (cfg != null) {
            switch (cfg.kind()) {
                case ZERO -> Arrays.fill(row, 0f);
                case MODEL -> {
                    int r = vocab.rowsOf(cfg.model())[i];
                    if (r < 0) throw new RecipeException("tokenizer.tokens." + token + ": token " + Vocabulary.quote(token)
                            + " is not in model " + cfg.model());
                    load(output, cfg.model(), byModel, r, token, row);
                }
                case MODEL_TOKEN -> {
                    Integer r = cfg.tokenId() != null ? cfg.tokenId() : vocab.originalId(cfg.model(), cfg.token());
                    if (r == null) throw new RecipeException("tokenizer.tokens." + token + ": token "
                            + Vocabulary.quote(cfg.token()) + " is not in model " + cfg.model());
                    load(output, cfg.model(), byModel, r, token, row);
                }
            }
            return;
        }
        List<String> present = new ArrayList<>();
        for (String m : byModel.keySet()) if (vocab.rowsOf(m)[i] >= 0) present.add(m);
        if (present.isEmpty()) {
            Arrays.fill(row, 0f);
        } else if (present.size() == 1) {
            load(output, present.getFirst(), byModel, vocab.rowsOf(present.getFirst())[i], token, row);
        } else if (present.contains(vocab.baseModel())) {
            load(output, vocab.baseModel(), byModel, vocab.rowsOf(vocab.baseModel())[i], token, row);
        } else {
            Arrays.fill(row, 0f);
            for (String m : present) {
                load(output, m, byModel, vocab.rowsOf(m)[i], token, x);
                for (int c = 0; c < row.length; c++) row[c] = row[c] + x[c];
            }
            float n = present.size();
            for (int c = 0; c < row.length; c++) row[c] = row[c] / n;
        }
    }

    private void load(String output, String model, Map<String, Tensor> byModel, long r, String token, float[] dst) {
        Tensor t = byModel.get(model);
        if (t == null) {
            throw new RecipeException("tensor " + output + ": the embedding for token " + Vocabulary.quote(token)
                    + " comes from model " + model + ", which does not contribute to this tensor");
        }
        if (r >= t.info().dim(0)) throw tooShort(output, model, token, r, t.info().dim(0));
        kernels.load(t.data(), t.dtype(), r * dst.length, dst, dst.length);
        if (rounding != null && t.dtype().roundsTo(rounding)) {
            for (int c = 0; c < dst.length; c++) dst[c] = FloatFormats.round(dst[c], rounding);
        }
    }

    private static RecipeException tooShort(String output, String model, String token, long row, long rows) {
        return new RecipeException("tensor " + output + " of model " + model + ": token " + Vocabulary.quote(token)
                + " needs row " + row + " but the tensor has " + rows + " rows (config vocab_size and weights disagree)");
    }

    @Override
    public void close() throws IOException {
        laidOut.clear();
        arena.close();
        if (Files.isDirectory(dir)) {
            try (var s = Files.list(dir)) {
                for (Path f : s.toList()) Files.delete(f);
            }
            Files.delete(dir);
        }
    }
}
