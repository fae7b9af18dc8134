package dev.amalgam.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.BuildInfo;
import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.merge.method.TensorContext;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.RecipeYaml;
import dev.amalgam.merge.recipe.SourceModel;
import dev.amalgam.merge.recipe.TokenizerSpec;
import dev.amalgam.merge.tokenizer.OutputTokenizer;
import dev.amalgam.merge.tokenizer.Vocabulary;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.SafetensorsWriter;
import dev.amalgam.safetensors.StagedDirectory;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a recipe: check, open the models, plan, stream every output tensor through its method
 * into a staged output folder (tensors in parallel, each computed chunk by chunk in a fixed
 * order, so the bytes do not depend on the thread count), then write config, tokenizer,
 * normalised recipe and model card, and move the folder into place.
 */
public final class MergeEngine {
    /** Tokenizer and generation files copied from the tokenizer source. */
    static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json",
            "generation_config.json");

    /** Output bytes a merge thread collects before each write to the file. */
    static final long OUTPUT_BUFFER = 4L << 20;
    /** Elements per part when an elementwise method splits a big tensor (a multiple of the chunk). */
    static final long PART = 1024L * TensorContext.CHUNK;

    private MergeEngine() {
    }

    /** Runs {@code request}; a failed merge leaves nothing at its output folder. */
    public static MergeResult run(MergeRequest request) throws IOException {
        Recipe recipe = request.recipe();
        ModelResolver resolver = request.resolver();
        MergeOptions options = request.options();
        ProgressListener progress = request.progress();
        var check = RecipeChecker.check(recipe);
        if (!check.ok()) throw new RecipeException(recipe.source(), check.problems());
        if (MergeMethods.find(recipe.mergeMethod()).isEmpty()) {
            throw new RecipeException(recipe.source() + ": merge_method " + recipe.mergeMethod()
                    + " is not implemented by this engine yet");
        }
        long seed = recipe.randomSeed() != null ? recipe.randomSeed() : options.defaultSeed();
        Map<String, SourceModel> models = open(recipe, resolver);
        try (StagedDirectory stage = StagedDirectory.begin(request.out())) {
            TokenizerSpec tokenizer = recipe.effectiveTokenizer();
            OutputTokenizer vocab = tokenizer == null ? null : OutputTokenizer.build(tokenizer, recipe,
                    RecipeModels.merged(recipe), models, resolver);
            MergePlan plan = MergePlan.build(recipe, models, vocab == null ? null : vocab.rows());
            List<String> problems = plan.checkTensors(models);
            if (!problems.isEmpty()) throw new RecipeException(recipe.source(), problems);
            MergeKernels kernels = Kernels.get();
            List<TensorSpec> specs = new ArrayList<>();
            long bytes = 0;
            for (MergePlan.Planned p : plan.tensors()) {
                TensorSpec spec = new TensorSpec(p.name(), p.outDtype(), p.shape());
                specs.add(spec);
                bytes += spec.byteSize();
            }
            List<String> files = new ArrayList<>();
            try (EmbeddingPermuter embeddings = new EmbeddingPermuter(stage.path().resolve(".embeddings"), kernels);
                 SafetensorsWriter writer = SafetensorsWriter.create(stage.path(), specs, options.shardSize())) {
                progress.started(specs.size(), bytes);
                if (vocab != null) embeddings.prepare(plan, models, vocab);
                execute(plan, models, embeddings, writer, kernels, seed, options.threads(), progress, request.partElements(),
                        request.stream());
                for (Path f : writer.finish()) files.add(f.getFileName().toString());
            }
            // without a tokenizer setting the base's (or first model's) files are copied as they are
            Path tokenizerDir = vocab != null ? vocab.filesFrom() : plan.reference().dir();
            files.addAll(writeMetadata(recipe, plan, tokenizerDir, vocab, stage.path(), seed));
            progress.finished();
            stage.commit();
            return new MergeResult(stage.target(), List.copyOf(files), recipe.mergeMethod(), seed,
                    BuildInfo.current().version() + "+" + BuildInfo.current().commit(), kernels.name(),
                    specs.size(), bytes, RecipeModels.referenced(recipe));
        } finally {
            models.values().forEach(SourceModel::close);
        }
    }

    /** Opens every referenced model; closes what was opened if one fails. */
    public static Map<String, SourceModel> open(Recipe recipe, ModelResolver resolver) throws IOException {
        Map<String, SourceModel> models = new LinkedHashMap<>();
        try {
            for (String ref : RecipeModels.referenced(recipe)) {
                models.put(ref, SourceModel.open(ref, resolver.resolve(ref, recipe.folder())));
            }
        } catch (IOException | RuntimeException e) {
            models.values().forEach(SourceModel::close);
            throw e;
        }
        return models;
    }

    /** {@code recipe check --resolve}: opens the models and plans, reporting every problem at once. */
    public static MergePlan resolve(Recipe recipe, ModelResolver resolver) throws IOException {
        Map<String, SourceModel> models = open(recipe, resolver);
        try {
            TokenizerSpec tokenizer = recipe.effectiveTokenizer();
            OutputTokenizer vocab = tokenizer == null ? null : OutputTokenizer.build(tokenizer, recipe,
                    RecipeModels.merged(recipe), models, resolver);
            MergePlan plan = MergePlan.build(recipe, models, vocab == null ? null : vocab.rows());
            List<String> problems = plan.checkTensors(models);
            if (!problems.isEmpty()) throw new RecipeException(recipe.source(), problems);
            return plan;
        } finally {
            models.values().forEach(SourceModel::close);
        }
    }

    private static void execute(MergePlan plan, Map<String, SourceModel> models, EmbeddingPermuter embeddings,
                                SafetensorsWriter writer,
                                MergeKernels kernels, long seed, int threads, ProgressListener progress,
                                long partElements, boolean stream) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "amalgam-merge");
            t.setDaemon(true);
            return t;
        });
        try (WriteBehind out = new WriteBehind(writer)) {
            List<Future<?>> futures = new ArrayList<>();
            for (MergePlan.Planned p : plan.tensors()) {
                long n = 1;
                for (long d : p.shape()) n *= d;
                // elementwise methods split big tensors into fixed parts (never by thread count,
                // and elementwise results do not depend on the split anyway)
                boolean split = !p.copyRaw() && n > partElements && plan.method().elementwise(p.globals());
                long parts = split ? (n + partElements - 1) / partElements : 1;
                var left = new java.util.concurrent.atomic.AtomicLong(parts);
                for (long part = 0; part < parts; part++) {
                    long from = part * partElements, count = split ? Math.min(partElements, n - from) : n;
                    futures.add(pool.submit(() -> {
                        compute(plan.method(), p, models, embeddings, out, kernels, seed, from, count, split, stream);
                        if (left.decrementAndGet() == 0) progress.tensorDone(p.name(), writer.spec(p.name()).byteSize());
                        return null;
                    }));
                }
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    futures.forEach(x -> x.cancel(true));
                    Throwable c = e.getCause();
                    if (c instanceof UncheckedIOException u) throw u.getCause();
                    if (c instanceof IOException io) throw io;
                    if (c instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(c);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("merge interrupted");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Computes elements [from, from + count) of one output tensor; a part ({@code part} true)
     * sees its inputs as 1-D slices, which only elementwise methods may be given.
     */
    static void compute(MergeMethod method, MergePlan.Planned p, Map<String, SourceModel> models,
                        EmbeddingPermuter embeddings, WriteBehind out, MergeKernels kernels, long seed, long from, long count,
                        boolean part, boolean stream) throws IOException {
        List<TensorContext.Input> inputs = new ArrayList<>();
        boolean fromFiles = true;
        for (MergePlan.PlannedInput in : p.inputs()) {
            Tensor t = embeddings.input(p.name(), in.model(), in.tensor());
            fromFiles &= t == null;
            if (t == null) t = leadingRows(models.get(in.model()).weights().tensor(in.tensor()), p.shape());
            if (part) t = elements(t, from, count);
            inputs.add(new TensorContext.Input(in.model(), t, in.isBase(), in.params(), in.position()));
        }
        if (p.copyRaw()) {
            out.write(p.name(), 0, inputs.getFirst().tensor().data());
            return;
        }
        // every method reads its inputs through the context: positional reads into reused buffers
        // when streaming (no page faults on the mappings, nothing resident to drop behind them)
        boolean windowed = fromFiles && stream;
        DType dt = p.outDtype();
        long cap = Math.max((long) TensorContext.CHUNK * dt.byteSize(), Math.min(OUTPUT_BUFFER, count * dt.byteSize()));
        var sink = new BufferedOutput(out, SCRATCH.get().output, p.name(), dt, kernels, cap, part ? from * dt.byteSize() : 0,
                windowed ? null : inputs);
        TensorContext ctx = new TensorContext(p.name(), p.shape(), part ? from : 0, inputs, p.globals(), kernels, seed,
                sink, models).roundingInputsTo(p.inputDtype());
        if (windowed) ctx.readingWith(positionalReads(inputs, models, part ? from : 0));
        method.merge(ctx);
        sink.finish();
        // drop the inputs' pages from this process (the page cache keeps them): resident memory
        // stays bounded by the tensors in flight, not by the size of the models
        if (!windowed) {
            for (TensorContext.Input in : inputs) {
                if (in.tensor().data().isMapped()) in.tensor().data().unload();
            }
        }
    }

    /**
     * The output of one tensor (or part): contiguous chunks collect in a buffer of up to 4 MiB (a
     * system call per chunk of 8192 elements would cost more than the arithmetic), and each full
     * run goes to the output's writing thread while the next fills the merge thread's other
     * buffer. With {@code dropBehind}, the inputs' mapped pages under each written run are dropped
     * from this process.
     */
    private static final class BufferedOutput implements TensorContext.Sink {
        private final WriteBehind out;
        private final WriteBehind.Buffers buffers;
        private final String name;
        private final DType dtype;
        private final MergeKernels kernels;
        private final long cap;
        private final long base;
        private final List<TensorContext.Input> dropBehind;
        // a field, not an array slot: the slot's store check deoptimised the merge loop
        private MemorySegment buf;
        /** Byte offset in this part where the buffer starts, and the bytes filled. */
        private long runStart, filled;

        BufferedOutput(WriteBehind out, WriteBehind.Buffers buffers, String name, DType dtype, MergeKernels kernels,
                       long cap, long base, List<TensorContext.Input> dropBehind) throws IOException {
            this.out = out;
            this.buffers = buffers;
            this.name = name;
            this.dtype = dtype;
            this.kernels = kernels;
            this.cap = cap;
            this.base = base;
            this.dropBehind = dropBehind;
            this.buf = buffers.take(cap);
        }

        @Override
        public void accept(long at0, float[] values, int n) throws IOException {
            kernels.store(values, n, reserve(at0, n), dtype, 0);
            commit(at0, n);
        }

        @Override
        public DType directDtype() {
            return dtype;
        }

        @Override
        public MemorySegment reserve(long at0, int n) throws IOException {
            long at = at0 * dtype.byteSize(), len = (long) n * dtype.byteSize();
            if (at != runStart + filled || filled + len > cap) {
                if (filled > 0) {
                    handRun();
                    buf = buffers.take(cap);
                }
                runStart = at;
                filled = 0;
            }
            return buf.asSlice(filled, len);
        }

        @Override
        public void commit(long at0, int n) {
            filled += (long) n * dtype.byteSize();
        }

        /** Hands the last run over. */
        void finish() throws IOException {
            if (filled > 0) handRun();
            filled = 0;
        }

        private void handRun() throws IOException {
            buffers.hand(out, name, base + runStart, filled);
            if (dropBehind != null) unload(dropBehind, runStart / dtype.byteSize(), filled / dtype.byteSize());
        }
    }

    /**
     * Native buffers one merge thread reuses from tensor to tensor: a fresh allocation per tensor
     * would fault its pages in (and zero them) every time, which cost more system time than the
     * merge arithmetic.
     */
    private static final class Scratch {
        private final List<MemorySegment> slots = new ArrayList<>();
        /** The output's two buffers. */
        final WriteBehind.Buffers output = new WriteBehind.Buffers();

        MemorySegment get(int slot, long bytes) {
            while (slots.size() <= slot) slots.add(null);
            MemorySegment s = slots.get(slot);
            if (s == null || s.byteSize() < bytes) {
                s = Arena.ofAuto().allocate(bytes, 64);
                slots.set(slot, s);
            }
            return s.asSlice(0, bytes);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** {@code -Damalgam.stream=false} reads elementwise inputs through the mappings (for comparisons). */
    static final boolean STREAM = !"false".equals(System.getProperty("amalgam.stream"));

    /**
     * Inputs read with positional reads into this thread's reused buffers. Each input has a
     * buffer holding the {@link TensorContext#WINDOW} elements (or more, for a larger read) from the first read
     * outside it, so a pass of chunk reads costs one system call per window; reads of fewer than
     * {@link #SMALL_READ} elements (sampling) are read as they are into a second buffer, leaving
     * the window in place. {@code partFrom} is where a part's element 0 stands in its tensor.
     */
    private static TensorContext.WindowReader positionalReads(List<TensorContext.Input> inputs,
                                                              Map<String, SourceModel> models, long partFrom) {
        Scratch scratch = SCRATCH.get();
        int m = inputs.size();
        long[] cachedFrom = new long[m];
        int[] cachedLen = new int[m];
        return (input, fromElem, n) -> {
            TensorContext.Input in = inputs.get(input);
            Tensor t = in.tensor();
            long size = t.dtype().byteSize();
            var weights = models.get(in.model()).weights();
            if (n < SMALL_READ) {
                MemorySegment dst = scratch.get(2 * input + 1, n * size);
                weights.read(t.name(), (partFrom + fromElem) * size, dst);
                return dst;
            }
            if (fromElem < cachedFrom[input] || fromElem + n > cachedFrom[input] + cachedLen[input]) {
                int len = (int) Math.min(Math.max(n, TensorContext.WINDOW), t.elementCount() - fromElem);
                MemorySegment cache = scratch.get(2 * input, (long) len * size);
                weights.read(t.name(), (partFrom + fromElem) * size, cache);
                cachedFrom[input] = fromElem;
                cachedLen[input] = len;
            }
            return scratch.get(2 * input, (long) cachedLen[input] * size)
                    .asSlice((fromElem - cachedFrom[input]) * size, n * size);
        };
    }

    /** Reads below this many elements are made as they are, not as a whole window. */
    static final int SMALL_READ = 1024;

    /** Elements [from, from + count) of a tensor, as a 1-D tensor. */
    static Tensor elements(Tensor t, long from, long count) {
        long size = t.dtype().byteSize();
        var info = new dev.amalgam.safetensors.TensorInfo(t.name(), t.dtype(), new long[]{count},
                t.info().begin() + from * size, t.info().begin() + (from + count) * size);
        return new Tensor(info, t.data().asSlice(from * size, count * size), t.file());
    }

    /** The tensor cut to the output's leading rows (an embedding of a larger vocabulary), or itself. */
    static Tensor leadingRows(Tensor t, long[] shape) {
        if (t.info().sameShape(new dev.amalgam.safetensors.TensorInfo(t.name(), t.dtype(), shape, 0, 0))) return t;
        long elements = 1;
        for (long d : shape) elements *= d;
        long bytes = elements * t.dtype().byteSize();
        var info = new dev.amalgam.safetensors.TensorInfo(t.name(), t.dtype(), shape, t.info().begin(), t.info().begin() + bytes);
        return new Tensor(info, t.data().asSlice(0, bytes), t.file());
    }

    /**
     * Drops the input pages behind elements already written from this process's resident set
     * (the page cache keeps them, so a later pass re-reads them cheaply): resident memory stays
     * at a few output buffers' worth of input per thread, not whole tensors.
     */
    private static void unload(List<TensorContext.Input> inputs, long fromElem, long elems) {
        for (TensorContext.Input in : inputs) {
            MemorySegment d = in.tensor().data();
            long size = in.tensor().dtype().byteSize();
            if (d.isMapped() && elems > 0) d.asSlice(fromElem * size, elems * size).unload();
        }
    }

    private static List<String> writeMetadata(Recipe recipe, MergePlan plan, Path tokenizerDir, OutputTokenizer vocab,
                                              Path dir, long seed) throws IOException {
        List<String> files = new ArrayList<>();
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode config = plan.reference().config();
        if (config != null) {
            ObjectNode c = config.deepCopy();
            c.put(plan.architecture().numLayersKey(), plan.outputLayers());
            for (MergePlan.Planned p : plan.tensors()) {
                // a vocabulary cut to the common rows must show in the config too
                if (p.name().equals(plan.architecture().preWeights().isEmpty() ? null : plan.architecture().preWeights().getFirst())
                        && c.has("vocab_size") && p.shape().length == 2 && c.get("vocab_size").asLong() != p.shape()[0]) {
                    c.put("vocab_size", p.shape()[0]);
                }
            }
            if (vocab != null) c.put("vocab_size", vocab.rows());
            String d = recipe.outDtype() != null ? recipe.outDtype() : recipe.dtype();
            if (d != null) {
                c.put("torch_dtype", DType.fromTorchName(d).orElseThrow().torchName());
            }
            json.writeValue(dir.resolve("config.json").toFile(), c);
            files.add("config.json");
        }
        for (String f : TOKENIZER_FILES) {
            Path src = tokenizerDir.resolve(f);
            if (Files.isRegularFile(src)) {
                Files.copy(src, dir.resolve(f), StandardCopyOption.COPY_ATTRIBUTES);
                files.add(f);
            }
        }
        if (vocab != null) {
            vocab.writeFiles(dir);
            if (!files.contains(Vocabulary.FILE)) files.add(Vocabulary.FILE);
        }
        if (recipe.chatTemplate() != null && Files.isRegularFile(dir.resolve("tokenizer_config.json"))) {
            ObjectNode tc = (ObjectNode) json.readTree(dir.resolve("tokenizer_config.json").toFile());
            tc.put("chat_template", recipe.chatTemplate());
            json.writeValue(dir.resolve("tokenizer_config.json").toFile(), tc);
        }
        String yaml = RecipeYaml.write(recipe, seed);
        Files.writeString(dir.resolve("amalgam-recipe.yml"), yaml);
        files.add("amalgam-recipe.yml");
        Files.writeString(dir.resolve("README.md"), ModelCard.render(recipe, yaml));
        files.add("README.md");
        return files;
    }
}
