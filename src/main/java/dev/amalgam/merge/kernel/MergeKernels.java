package dev.amalgam.merge.kernel;

import dev.amalgam.safetensors.DType;

import java.lang.foreign.MemorySegment;

/**
 * The hot operations of the merge core, over chunk-sized F32 scratch arrays and the mapped
 * tensor bytes they are loaded from and stored to. Two implementations exist, a scalar twin
 * and a Vector API one, and they must agree bit for bit: elementwise operations are single
 * IEEE operations per element (multiply then add, never a fused multiply-add), and reductions
 * use a fixed virtual width of {@value #LANES} lanes summed in lane order, whatever the
 * hardware's vector width. Chosen once at start-up by {@link Kernels#get()}.
 */
public interface MergeKernels {
    /** Virtual lane count of reductions: part of the output format, never change it. */
    int LANES = 16;

    String name();

    /** dst[i] = element (fromElem + i) of src, widened to F32 (BF16, F16 or F32 little-endian). */
    void load(MemorySegment src, DType dtype, long fromElem, float[] dst, int n);

    /** Element (fromElem + i) of dst = src[i], narrowed round-to-nearest-even, NaN/Inf kept. */
    void store(float[] src, int n, MemorySegment dst, DType dtype, long fromElem);

    /**
     * dst[i] = src[i] converted from one merge float type to another, round-to-nearest-even, NaN
     * canonical (a load then a store, without the F32 array between): an input window rounded
     * to the recipe's dtype.
     */
    void convert(MemorySegment src, DType from, MemorySegment dst, DType to, int n);

    /** out[i] = (element (fromElem + i) of src, widened) - base[i]: {@link #load} then {@link #sub} in one pass. */
    default void loadDelta(MemorySegment src, DType dtype, long fromElem, float[] base, float[] out, int n) {
        load(src, dtype, fromElem, out, n);
        sub(out, base, out, n);
    }

    /**
     * Element (dstElem + i) of dst = narrowed base[i] + ((mixed[i] / divisor[i]) · lambda), the
     * division skipped when divisor is null and the product when lambda is 1: the end of the
     * task-vector methods, the same IEEE operations as {@link #divide}, {@link #scale},
     * {@link #add} and {@link #store} one after the other.
     */
    default void finishStore(float[] mixed, float[] divisor, float lambda, float[] base,
                             MemorySegment dst, DType outDtype, long dstElem, int n) {
        if (divisor != null) divide(mixed, divisor, n);
        if (lambda != 1f) scale(mixed, lambda, n);
        add(base, mixed, mixed, n);
        store(mixed, n, dst, outDtype, dstElem);
    }

    /** acc[i] = acc[i] + w * x[i]. */
    void axpy(float[] acc, float[] x, float w, int n);

    /** acc[i] = acc[i] + w[i] * x[i]: a weight per element (DAM's per-column coefficients). */
    void mulAdd(float[] acc, float[] w, float[] x, int n);

    /**
     * out[i] = ((0 + w[0]·x0[i]) + w[1]·x1[i]) + ..., the inputs read straight from their
     * segments (all of one dtype): the same sums as clearing out and calling axpy per input,
     * without the intermediate F32 copies.
     */
    void weightedSum(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m, float[] out, int n);

    /** out[i] = weightedSum[i] / divisor: linear's normalised average in the same pass. */
    void weightedMean(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m, float divisor, float[] out, int n);

    /**
     * {@link #weightedMean} (or {@link #weightedSum} when {@code divide} is false) stored straight
     * into {@code dst} as {@code outDtype} from element {@code dstElem}: the same bytes as
     * computing into {@code scratch} and calling {@link #store}, without the F32 round trip.
     * {@code scratch} holds at least n floats.
     */
    // Left positional (12 parameters, the widest here): linear is the kernel the memory-bandwidth
    // target is measured on, and it was not re-measured with a record in issue 16 item 6 (the
    // bench on this shared VM varies 2x between runs, too much to see a few percent); grouping
    // (w, m, divide, divisor) as TaskSum does is the next candidate.
    default void weightedMeanStore(MemorySegment[] src, DType dtype, long fromElem, float[] w, int m,
                                   boolean divide, float divisor, MemorySegment dst, DType outDtype,
                                   long dstElem, float[] scratch, int n) {
        if (divide) weightedMean(src, dtype, fromElem, w, m, divisor, scratch, n);
        else weightedSum(src, dtype, fromElem, w, m, scratch, n);
        store(scratch, n, dst, outDtype, dstElem);
    }

    /** x[i] = x[i] / d. */
    void divide(float[] x, float d, int n);

    /**
     * TIES top-k mask with a threshold key (see {@link MagnitudeSelect#key}): keeps x[i] when
     * its key is above the threshold, or equal to it while {@code tiesLeft} lasts (lowest index
     * first); multiplies the rest by zero. Returns the ties still allowed.
     */
    long keepTop(float[] x, int n, int thresholdKey, long tiesLeft);

    /**
     * DARE's random drop ({@link CounterRandom}): x[i] is multiplied by zero when the uniform
     * draw of element {@code fromElem + i} of the stream {@code key} is at least {@code density}.
     */
    void dropout(float[] x, int n, long fromElem, long key, float density);

    /** Adds to low[key & 0xffff] for each x[i] whose key's high 16 bits equal {@code bucket}. */
    void countInBucket(float[] x, int n, int bucket, long[] low);

    /**
     * One pass of a bracketed selection (loKey <= hiKey), keys as {@link MagnitudeSelect#key}:
     * adds to {@code state[0]} the elements with key above hiKey, to {@code state[2]} those equal
     * to hiKey, to {@code state[3]} those equal to loKey when loKey < hiKey, and appends to
     * {@code out} from {@code state[1]} (advancing it), in index order, the keys strictly between
     * as float bits. {@code out} must have room for n + {@value #LANES} more.
     */
    void bracket(float[] x, int n, int loKey, int hiKey, float[] out, long[] state);

    /**
     * {@link SampledSelect}'s counting pass fused with the task vector: the keys of x − base for
     * BF16 elements [fromElem, fromElem + n) of both segments, classified and collected as
     * {@link #bracket} does, without F32 copies of either; the collected keys may come in any
     * order (a selection over them only counts them).
     */
    // Left positional: loKey/hiKey and state are SampledSelect's own per-selection fields, passed
    // through once per window (not measured).
    void bracketDeltaBf16(MemorySegment x, MemorySegment base, long fromElem, int n, int loKey, int hiKey,
                          float[] out, long[] state);

    /**
     * One task vector of TIES' output pass from BF16 segments: out[i] = d · rescale (when not 1)
     * · weight with d = x − base, where d is multiplied by zero unless its key is above
     * {@code thrKey}, or equal to it while {@code tiesLeft} lasts (lowest index first). The same
     * operations as {@link #loadDelta}, {@link #keepTop}, {@link #scale} one after the other;
     * a threshold key of -1 keeps everything. Returns the ties still allowed.
     */
    // Left positional: called per task vector and per 2048-element piece, and its per-vector
    // arguments (thrKey, tiesLeft, rescale, weight) are the loop's own state; a record would be
    // one more object per call or a mutable holder for the quota (not measured).
    long maskedDeltaBf16(MemorySegment x, MemorySegment base, long fromElem, int thrKey, long tiesLeft,
                         float rescale, float weight, float[] out, int n);

    /**
     * The end of TIES' output pass for a BF16 base and output: {@link #tiesMix} of the weighted
     * task vectors, then {@link #finishStore} (divided by the agreeing weights when
     * {@code normalize}, times lambda when not 1, plus the base) into {@code dst} from element
     * {@code dstElem}, the same IEEE operations in the same order.
     */
    void tiesCombineBf16(float[][] weighted, TiesFinish finish, MemorySegment base, long fromElem,
                         MemorySegment dst, long dstElem, int n);

    /**
     * TIES' whole output pass for BF16 inputs and output: for each of the m task vectors x_j −
     * base, {@link #maskedDeltaBf16} with {@code thrKeys[j]} (-1 keeps all), {@code tiesLeft[j]}
     * (updated in place), rescale 1 and {@code weights[j]}, then {@link #tiesCombineBf16} into
     * {@code dst} from element {@code dstElem}: the same bytes as those kernels one after the other.
     */
    void tiesOutputBf16(MemorySegment base, MemorySegment[] xs, long fromElem, int[] thrKeys, long[] tiesLeft,
                        TiesFinish finish, MemorySegment dst, long dstElem, int n);

    /**
     * Task arithmetic's output for BF16 inputs and output in one pass: with d_j = (x_j − base) ·
     * weights[j], the element is base + (((d_0 + d_1) + ...) / divisor when {@code divide}) ·
     * lambda (when not 1), narrowed: the same operations as {@link #loadDelta}, {@link #scale},
     * {@link #add} and {@link #finishStore} one after the other.
     */
    void taskSumStoreBf16(MemorySegment base, MemorySegment[] xs, long fromElem, TaskSum sum,
                          MemorySegment dst, long dstElem, int n);

    /**
     * How TIES' output pass ends ({@link #tiesCombineBf16}, {@link #tiesOutputBf16}): the m task
     * vectors' weights, the division by the agreeing weights when {@code normalize}, lambda. The
     * same for every call over one tensor, so made once per tensor: grouping these four cost
     * nothing measurable (issue 16 item 6, docs/benchmarks.md), and the kernels read them into
     * locals before their loops, as they did their parameters.
     */
    record TiesFinish(float[] weights, int m, boolean normalize, float lambda) {
    }

    /**
     * How task arithmetic's output ends ({@link #taskSumStoreBf16}): the m task vectors' weights,
     * the division by {@code divisor} when {@code divide}, lambda; made once per tensor, as
     * {@link TiesFinish}.
     */
    record TaskSum(float[] weights, int m, boolean divide, float divisor, float lambda) {
    }

    /** out[i] = a[i] - b[i]. */
    void sub(float[] a, float[] b, float[] out, int n);

    /** out[i] = a[i] + b[i]. */
    void add(float[] a, float[] b, float[] out, int n);

    /** x[i] = x[i] * s. */
    void scale(float[] x, float s, int n);

    /** x[i] = x[i] / d[i]. */
    void divide(float[] x, float[] d, int n);

    /**
     * TIES sign consensus over m weighted deltas: the majority sign is that of their sum
     * (zero counts as positive); mixed[i] sums the deltas with that sign, divisor[i] their
     * weights (1 where none agree). A zero or NaN delta never agrees.
     */
    void tiesMix(float[][] weighted, float[] weights, int m, float[] mixed, float[] divisor, int n);

    /** Σ |x[i]| in the fixed lane order. */
    double sumAbs(float[] x, int n);

    /** Σ a[i] * b[i] in the fixed lane order. */
    double dot(float[] a, float[] b, int n);

    /**
     * The wrapping sum of the little-endian 64-bit words [0, words) of m segments, read side by
     * side: a pass that only reads, the benchmark's reference for reading a merge's inputs.
     */
    long sumWords(MemorySegment[] src, int m, long words);
}
