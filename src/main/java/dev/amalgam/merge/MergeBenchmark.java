package dev.amalgam.merge;

import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.kernel.MergeKernels;
import dev.amalgam.merge.method.MergeMethod;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.merge.method.TensorContext;
import dev.amalgam.merge.recipe.ParameterDef;
import dev.amalgam.safetensors.DType;
import dev.amalgam.safetensors.FloatFormats;
import dev.amalgam.safetensors.Tensor;
import dev.amalgam.safetensors.TensorInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Measures, in one run, the machine's memory-copy bandwidth and the merge core's BF16
 * throughput (linear over three models, TIES over a base and two models), on 1 thread and on
 * all threads, in GB/s of bytes read + written. Several threads work as the executor does:
 * each on its own tensor. Buffers are staggered so no two start 128 MiB apart (cache aliasing).
 * <p>
 * {@link #measureTogether} times its workloads round-robin (one run of each in turn, best of
 * the rounds for each), so every ratio compares runs taken minutes apart at most, under the
 * same conditions: on a shared VM the memory bandwidth drifts by 2x within minutes, and timing
 * one workload after another would compare the copy of one minute with the merge of the next.
 */
public final class MergeBenchmark {
    /** One measured line. */
    public record Measurement(String name, int threads, double seconds, long bytes) {
        public double gbPerSecond() {
            return bytes / seconds / 1e9;
        }
    }

    /** A prepared measurement: its buffers are filled, {@code work} runs one thread's share. */
    public record Workload(String name, long bytes, Consumer<Integer> work) {
    }

    /** Elements per input of the in-cache linear merge: 3 x 128 KiB in, 128 KiB out, all in L2. */
    static final int CACHED_ELEMENTS = 65_536;

    private final long elements;
    private final int repeats;
    private final MergeKernels kernels;

    public MergeBenchmark(long elements, int repeats, MergeKernels kernels) {
        this.elements = elements;
        this.repeats = repeats;
        this.kernels = kernels;
    }

    public MergeBenchmark(long elements, int repeats) {
        this(elements, repeats, Kernels.get());
    }

    /** Memory copy: bytes counted as read + written, as STREAM does. */
    public Workload copy(Arena arena, int threads) {
        // at least 512 MiB each way, so caches cannot hold the buffers
        long bytes = Math.max(elements * 2 * 4, 1L << 30);
        List<MemorySegment[]> parts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long size = bytes / 2 / threads;
            MemorySegment from = staggered(arena, size, 2 * t), to = staggered(arena, size, 2 * t + 1);
            // both buffers written before timing, so no page is a shared zero page or untouched
            from.fill((byte) 0x5a);
            to.fill((byte) 0xa5);
            parts.add(new MemorySegment[]{from, to});
        }
        return new Workload("memory copy", bytes,
                t -> MemorySegment.copy(parts.get(t)[0], 0, parts.get(t)[1], 0, parts.get(t)[0].byteSize()));
    }

    /**
     * Reading three inputs side by side and nothing else ({@link MergeKernels#sumWords}), laid
     * out as the merges' inputs: the most a merge of three inputs can read per second; GB/s
     * counts the bytes read.
     */
    public Workload readInputs(Arena arena, int threads) {
        long per = elements / threads;
        List<MemorySegment[]> parts = new ArrayList<>();
        int stagger = 0;
        for (int t = 0; t < threads; t++) {
            MemorySegment[] in = new MemorySegment[3];
            for (int j = 0; j < 3; j++) {
                in[j] = staggered(arena, per * 2, stagger++);
                in[j].fill((byte) (0x11 * (j + 1)));
            }
            stagger++; // where a merge's output buffer would be
            parts.add(in);
        }
        long words = per * 2 / 8;
        return new Workload("read 3 inputs (no merge)", 3 * per * 2 * threads,
                t -> SINK.addAndGet(kernels.sumWords(parts.get(t), 3, words)));
    }

    /** Keeps the read-only pass's result alive. */
    private static final java.util.concurrent.atomic.AtomicLong SINK = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Three BF16 inputs per thread, a base then two fine-tune-like variants of it, shared by the
     * merge workloads prepared from them (filling 64 MiB tensors takes longer than merging them).
     */
    public record Inputs(long perThread, List<MemorySegment[]> segments) {
    }

    /** The merges' inputs for {@code threads} threads, {@code elements / threads} each. */
    public Inputs inputs(Arena arena, int threads) {
        return inputs(arena, threads, elements / threads);
    }

    private static Inputs inputs(Arena arena, int threads, long per) {
        List<MemorySegment[]> segments = new ArrayList<>();
        int stagger = 0;
        for (int t = 0; t < threads; t++) {
            MemorySegment[] in = new MemorySegment[3];
            for (int j = 0; j < 3; j++) {
                in[j] = staggered(arena, per * 2, stagger++);
                fill(in[j], per, j, j == 0 ? null : in[0]);
            }
            segments.add(in);
        }
        return new Inputs(per, segments);
    }

    /** Linear with the output going, as in the executor, into a reused 4 MiB buffer. */
    public Workload linear(Arena arena, Inputs in) {
        return merge(arena, "linear", in, false, true);
    }

    /** Linear with the output going to a fresh buffer as large as the tensor. */
    public Workload linearToMemory(Arena arena, Inputs in) {
        return merge(arena, "linear", in, false, false);
    }

    /**
     * Linear over inputs that stay in the core's L2 cache ({@link #CACHED_ELEMENTS} per input,
     * merged over and over until as many elements are done as in {@link #linear}): the kernel's
     * arithmetic rate with memory out of the way. The executor's kernels run like this, on
     * windows it has just read into per-thread buffers.
     */
    public Workload linearInCache(Arena arena, int threads) {
        long per = elements / threads, cached = Math.min(CACHED_ELEMENTS, per), rounds = per / cached;
        Workload one = merge(arena, "linear", inputs(arena, threads, cached), false, true);
        return new Workload("linear bf16 3->1 (in cache)", one.bytes() * rounds, t -> {
            for (long r = 0; r < rounds; r++) one.work().accept(t);
        });
    }

    public Workload taskArithmetic(Arena arena, Inputs in) {
        return merge(arena, "task_arithmetic", in, true, true);
    }

    public Workload ties(Arena arena, Inputs in) {
        return merge(arena, "ties", in, true, true);
    }

    private Workload merge(Arena arena, String method, Inputs inputs, boolean hasBase, boolean executorBuffer) {
        MergeMethod m = MergeMethods.find(method).orElseThrow();
        long per = inputs.perThread();
        int threads = inputs.segments().size();
        List<List<TensorContext.Input>> jobs = new ArrayList<>();
        List<MemorySegment> outs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<TensorContext.Input> in = new ArrayList<>();
            MemorySegment[] segs = inputs.segments().get(t);
            for (int j = 0; j < segs.length; j++) {
                var info = new TensorInfo("bench." + t, DType.BF16, new long[]{per}, 0, per * 2);
                boolean isBase = hasBase && j == 0;
                Map<String, Object> params = isBase ? Map.of() : Map.of("weight", 1.0 / (j + 1), "density", 0.5);
                in.add(new TensorContext.Input("m" + j, new Tensor(info, segs[j], "bench"), isBase, params));
            }
            jobs.add(in);
            outs.add(staggered(arena, executorBuffer ? Math.min(MergeEngine.OUTPUT_BUFFER, per * 2) : per * 2, 3 * threads + t));
        }
        Map<String, Object> globals = new java.util.HashMap<>();
        for (ParameterDef p : m.parameters()) if (p.defaultValue() != null) globals.put(p.name(), p.defaultValue());
        Consumer<Integer> work = t -> {
            MemorySegment out = outs.get(t);
            long size = out.byteSize();
            m.merge(new TensorContext("bench." + t, jobs.get(t), globals, kernels, 1L,
                    new TensorContext.Sink() {
                        @Override
                        public void accept(long from, float[] v, int n) {
                            kernels.store(v, n, out, DType.BF16, (from * 2 % size) / 2);
                        }

                        @Override
                        public DType directDtype() {
                            return DType.BF16;
                        }

                        @Override
                        public MemorySegment reserve(long from, int n) {
                            // chunks (16 KiB) and windows (256 KiB) tile the 4 MiB buffer exactly
                            return out.asSlice(from * 2 % size, n * 2L);
                        }
                    }));
        };
        int count = inputs.segments().getFirst().length;
        return new Workload(method + " bf16 " + count + "->1" + (executorBuffer ? "" : " (to RAM)"),
                (count + 1) * per * 2 * threads, work);
    }

    /** Allocates with an offset of k * 80 KiB so equal-size buffers do not alias in the cache. */
    private static MemorySegment staggered(Arena arena, long size, int k) {
        long pad = k * 80L * 1024;
        return arena.allocate(size + pad, 4096).asSlice(pad, size);
    }

    /** BF16 values: a base, then fine-tune-like variants of it. */
    private static void fill(MemorySegment seg, long n, int j, MemorySegment base) {
        var shorts = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        long state = 0x9e3779b97f4a7c15L * (j + 1);
        for (long i = 0; i < n; i++) {
            state = state * 6364136223846793005L + 1442695040888963407L;
            float noise = ((state >>> 40) * 0x1.0p-24f - 0.5f);
            float v = base == null ? noise * 0.04f : FloatFormats.bf16ToF32(base.getAtIndex(shorts, i)) + noise * 0.002f;
            seg.setAtIndex(shorts, i, FloatFormats.f32ToBf16(v));
        }
    }

    /**
     * The workloads round-robin: one warm-up run of each, then {@code repeats} rounds of one
     * timed run of each in turn; each workload's best run. Each thread runs its own share.
     */
    public List<Measurement> measureTogether(int threads, List<Workload> workloads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double[] best = new double[workloads.size()];
            java.util.Arrays.fill(best, Double.MAX_VALUE);
            for (int r = 0; r <= repeats; r++) {
                for (int w = 0; w < workloads.size(); w++) {
                    double s = timeOnce(pool, threads, workloads.get(w).work());
                    if (r > 0) best[w] = Math.min(best[w], s);
                }
            }
            List<Measurement> result = new ArrayList<>();
            for (int w = 0; w < workloads.size(); w++) {
                Workload wl = workloads.get(w);
                result.add(new Measurement(wl.name(), threads, best[w], wl.bytes()));
            }
            return result;
        } finally {
            pool.shutdownNow();
        }
    }

    private static double timeOnce(ExecutorService pool, int threads, Consumer<Integer> work) throws Exception {
        long start = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            fs.add(pool.submit(() -> work.accept(id)));
        }
        for (Future<?> f : fs) f.get();
        return (System.nanoTime() - start) / 1e9;
    }
}
