package dev.amalgam.merge.method;

import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.SourceModel;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * Everything a method needs to compute one output tensor: its inputs (base first when there is
 * one), evaluated parameters, the kernels, and a sink for finished chunks. Methods stream over
 * {@link #CHUNK}-element chunks so memory stays bounded whatever the tensor size; the chunk
 * size is fixed (not derived from threads or SIMD width) because reductions combine per-chunk
 * partial sums in chunk order.
 */
public final class TensorContext {
    /** Elements per chunk: part of the reduction order, so of the output bytes. */
    public static final int CHUNK = 8192;
    /** Elements per {@link #window} a multi-pass method asks for: a few inputs' windows stay in L2. */
    public static final int WINDOW = 16 * CHUNK;

    /**
     * One input tensor with the parameters evaluated for it. {@code position} is where its model
     * stands in the recipe ({@code models:} order, or the slice's {@code sources:} order; a base
     * model added by the planner comes last), whatever order the inputs are given in; -1 when
     * unknown.
     */
    public record Input(String model, Tensor tensor, boolean isBase, Map<String, Object> params, int position) {
        public Input(String model, Tensor tensor, boolean isBase, Map<String, Object> params) {
            this(model, tensor, isBase, params, -1);
        }
    }

    /** Receives finished F32 chunks in any order; converts and writes them. */
    public interface Sink {
        void accept(long fromElem, float[] values, int n) throws IOException;

        /** The dtype written by {@link #reserve}, or null when the sink only takes F32 chunks. */
        default DType directDtype() {
            return null;
        }

        /**
         * A slice of {@code n} elements of {@link #directDtype()} where the chunk starting at
         * {@code fromElem} may be written directly; {@link #commit} must follow before the next call.
         */
        default MemorySegment reserve(long fromElem, int n) throws IOException {
            throw new UnsupportedOperationException();
        }

        default void commit(long fromElem, int n) throws IOException {
        }
    }

    private final String name;
    private final long[] shape;
    private final long offset;
    private final List<Input> inputs;
    private final Map<String, Object> globals;
    private final MergeKernels kernels;
    private final long seed;
    private final Sink sink;
    private final Map<String, SourceModel> referenced;
    private WindowReader reader = this::slice;
    /** Per input, the dtype it is rounded to before the method sees it (null: read as stored). */
    private final DType[] roundTo;

    /**
     * Per thread, the buffer each input's rounded window is written to (by input index), reused
     * from tensor to tensor, as the engine's read buffers
     * (auto-arena memory allocated per tensor would wait for a GC to be freed, and the heap
     * hardly moves during a merge). A thread computes one tensor at a time.
     */
    private static final class RoundingBuffers {
        final List<MemorySegment> rounded = new java.util.ArrayList<>();

        MemorySegment get(int input, long bytes) {
            while (rounded.size() <= input) rounded.add(null);
            MemorySegment s = rounded.get(input);
            if (s == null || s.byteSize() < bytes) {
                s = Arena.ofAuto().allocate(Math.max(bytes, (long) WINDOW * Float.BYTES), 64);
                rounded.set(input, s);
            }
            return s.asSlice(0, bytes);
        }
    }

    private static final ThreadLocal<RoundingBuffers> ROUNDING = ThreadLocal.withInitial(RoundingBuffers::new);

    /**
     * Where {@link #window}, {@link #load} and {@link #loadDelta} get an input's bytes: slices of
     * the mappings by default; the engine may copy them with positional reads into reused
     * buffers instead. What it returns stays valid until the next read of the same input.
     */
    @FunctionalInterface
    public interface WindowReader {
        MemorySegment read(int input, long fromElem, int n) throws IOException;
    }

    /** A whole tensor: shape from the first input, no referenced models. */
    public TensorContext(String name, List<Input> inputs, Map<String, Object> globals, MergeKernels kernels,
                         long seed, Sink sink) {
        this(name, inputs.getFirst().tensor().info().shape(), 0, inputs, globals, kernels, seed, sink, Map.of());
    }

    /**
     * {@code shape} is the whole output tensor's; the inputs may be a 1-D part of it starting at
     * element {@code offset}. {@code referenced} holds the opened models named by model-reference
     * parameters, by reference.
     */
    public TensorContext(String name, long[] shape, long offset, List<Input> inputs, Map<String, Object> globals,
                         MergeKernels kernels, long seed, Sink sink, Map<String, SourceModel> referenced) {
        this.name = name;
        this.shape = shape.clone();
        this.offset = offset;
        this.inputs = inputs;
        this.globals = globals;
        this.kernels = kernels;
        this.seed = seed;
        this.sink = sink;
        this.referenced = referenced;
        this.roundTo = new DType[inputs.size()];
    }

    /**
     * Rounds every input to {@code dtype} before the method sees it, as mergekit casts each input
     * tensor to the recipe's {@code dtype} when it loads it: inputs whose values {@code dtype}
     * holds exactly (a BF16 input with {@code float32}) are read as they are; the others are
     * converted window by window (round to nearest even, NaN canonical). Null reads every input
     * as stored. Returns this context.
     */
    public TensorContext roundingInputsTo(DType dtype) {
        for (int i = 0; i < inputs.size(); i++) {
            DType own = inputs.get(i).tensor().dtype();
            roundTo[i] = dtype != null && own.roundsTo(dtype) ? dtype : null;
        }
        return this;
    }

    /** The dtype of the bytes {@link #window} returns for an input: its own, or the one it is rounded to. */
    public DType dtype(int input) {
        return roundTo[input] != null ? roundTo[input] : inputs.get(input).tensor().dtype();
    }

    /** The whole output tensor's shape (the inputs may be a part of it). */
    public long[] shape() {
        return shape.clone();
    }

    /** Index in the whole tensor of element 0 of the inputs: 0 unless the tensor was split into parts. */
    public long offset() {
        return offset;
    }

    /** The opened model a model-reference parameter names. */
    public SourceModel referenced(String param) {
        Object ref = globals.get(param);
        SourceModel m = ref == null ? null : referenced.get(ref);
        if (m == null) throw fail("parameter '" + param + "' names no opened model (" + ref + ")");
        return m;
    }

    public String name() {
        return name;
    }

    public List<Input> inputs() {
        return inputs;
    }

    public int size() {
        return inputs.size();
    }

    /** Index of the base model's input, or -1. */
    public int baseIndex() {
        for (int i = 0; i < inputs.size(); i++) if (inputs.get(i).isBase()) return i;
        return -1;
    }

    public long elements() {
        return inputs.getFirst().tensor().elementCount();
    }

    public MergeKernels kernels() {
        return kernels;
    }

    public long seed() {
        return seed;
    }

    public boolean flag(String param) {
        return (Boolean) globals.get(param);
    }

    public double number(String param) {
        return ((Number) globals.get(param)).doubleValue();
    }

    /** A per-model number, failing with tensor and model named when it is missing. */
    public double number(int input, String param) {
        Object v = inputs.get(input).params().get(param);
        if (v == null) throw fail(input, "missing required parameter '" + param + "'");
        double d = ((Number) v).doubleValue();
        if (!Double.isFinite(d)) throw fail(input, "parameter '" + param + "' is not finite (" + d + ")");
        return d;
    }

    /**
     * The bytes of elements [fromElem, fromElem + n) of one input, element 0 first: a slice of its
     * mapping, or a copy in a buffer that stays valid until the next read of the same input
     * (window, load or loadDelta). Methods read their inputs through this (directly or by
     * {@link #load}), so the engine can stream every method without page faults on the mappings.
     */
    public MemorySegment window(int input, long fromElem, int n) {
        MemorySegment raw;
        try {
            raw = reader.read(input, fromElem, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return roundTo[input] == null ? raw : rounded(input, raw, n);
    }

    /** The window {@code raw} of an input converted to the dtype it is rounded to, in that input's buffer. */
    private MemorySegment rounded(int input, MemorySegment raw, int n) {
        DType to = roundTo[input], own = inputs.get(input).tensor().dtype();
        MemorySegment dst = ROUNDING.get().get(input, (long) n * to.byteSize());
        kernels.convert(raw, own, dst, to, n);
        return dst;
    }

    /** Reads inputs with {@code r} from now on; returns this context. */
    public TensorContext readingWith(WindowReader r) {
        this.reader = r;
        return this;
    }

    private MemorySegment slice(int input, long fromElem, int n) {
        Tensor t = inputs.get(input).tensor();
        long size = t.dtype().byteSize();
        return t.data().asSlice(fromElem * size, n * size);
    }

    /** dst[i] = element fromElem + i of an input, widened to F32. */
    public void load(int input, long fromElem, float[] dst, int n) {
        kernels.load(window(input, fromElem, n), dtype(input), 0, dst, n);
    }

    /** out[i] = element fromElem + i of an input, widened, minus base[i]: a task vector's chunk. */
    public void loadDelta(int input, long fromElem, float[] base, float[] out, int n) {
        kernels.loadDelta(window(input, fromElem, n), dtype(input), 0, base, out, n);
    }

    public void emit(long fromElem, float[] values, int n) {
        try {
            sink.accept(fromElem, values, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The output dtype chunks can be written in directly (see {@link Sink#reserve}), or null. */
    public DType directDtype() {
        return sink.directDtype();
    }

    public MemorySegment reserve(long fromElem, int n) {
        try {
            return sink.reserve(fromElem, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void commit(long fromElem, int n) {
        try {
            sink.commit(fromElem, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public RecipeException fail(String message) {
        return new RecipeException("tensor " + name + ": " + message);
    }

    public RecipeException fail(int input, String message) {
        return new RecipeException("tensor " + name + " of model " + inputs.get(input).model() + ": " + message);
    }
}
