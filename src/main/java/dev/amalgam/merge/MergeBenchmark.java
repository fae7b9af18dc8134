package dev.amalgam.merge;

import dev.amalgam.merge.kernel.Kernels;
import dev.amalgam.merge.kernel.MergeKernels;
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
 */
public final class MergeBenchmark {
    /** One measured line. */
    public record Measurement(String name, int threads, double seconds, long bytes) {
        public double gbPerSecond() {
            return bytes / seconds / 1e9;
        }
    }

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
    public Measurement copy(int threads) throws Exception {
        // at least 512 MiB each way, so caches cannot hold the buffers
        long bytes = Math.max(elements * 2 * 4, 1L << 30);
        try (Arena arena = Arena.ofShared()) {
            List<MemorySegment[]> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long size = bytes / 2 / threads;
                MemorySegment from = staggered(arena, size, 2 * t), to = staggered(arena, size, 2 * t + 1);
                // both buffers written before timing, so no page is a shared zero page or untouched
                from.fill((byte) 0x5a);
                to.fill((byte) 0xa5);
                parts.add(new MemorySegment[]{from, to});
            }
            double s = time(threads, t -> MemorySegment.copy(parts.get(t)[0], 0, parts.get(t)[1], 0, parts.get(t)[0].byteSize()));
            return new Measurement("memory copy", threads, s, bytes);
        }
    }

    /**
     * Reading three inputs side by side and nothing else ({@link MergeKernels#sumWords}), laid
     * out as the merges' inputs: the most a merge of three inputs can read per second; GB/s
     * counts the bytes read.
     */
    public Measurement readInputs(int threads) throws Exception {
        long per = elements / threads;
        try (Arena arena = Arena.ofShared()) {
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
            double s = time(threads, t -> SINK.addAndGet(kernels.sumWords(parts.get(t), 3, words)));
            return new Measurement("read 3 inputs (no merge)", threads, s, 3 * per * 2 * threads);
        }
    }

    /** Keeps the read-only pass's result alive. */
    private static final java.util.concurrent.atomic.AtomicLong SINK = new java.util.concurrent.atomic.AtomicLong();

    /** Linear with the output going, as in the executor, into a reused 4 MiB buffer. */
    public Measurement linear(int threads) throws Exception {
        return merge("linear", threads, 3, false, true);
    }

    /** Linear with the output going to a fresh buffer as large as the tensor. */
    public Measurement linearToMemory(int threads) throws Exception {
        return merge("linear", threads, 3, false, false);
    }

    public Measurement taskArithmetic(int threads) throws Exception {
        return merge("task_arithmetic", threads, 3, true, true);
    }

    public Measurement ties(int threads) throws Exception {
        return merge("ties", threads, 3, true, true);
    }

    private Measurement merge(String method, int threads, int inputs, boolean hasBase, boolean executorBuffer) throws Exception {
        long per = elements / threads;
        MergeMethod m = MergeMethods.find(method).orElseThrow();
        try (Arena arena = Arena.ofShared()) {
            List<List<TensorContext.Input>> jobs = new ArrayList<>();
            List<MemorySegment> outs = new ArrayList<>();
            int stagger = 0;
            for (int t = 0; t < threads; t++) {
                List<TensorContext.Input> in = new ArrayList<>();
                MemorySegment base = null;
                for (int j = 0; j < inputs; j++) {
                    MemorySegment seg = staggered(arena, per * 2, stagger++);
                    fill(seg, per, j, base);
                    if (j == 0) base = seg;
                    var info = new TensorInfo("bench." + t, DType.BF16, new long[]{per}, 0, per * 2);
                    boolean isBase = hasBase && j == 0;
                    Map<String, Object> params = isBase ? Map.of() : Map.of("weight", 1.0 / (j + 1), "density", 0.5);
                    in.add(new TensorContext.Input("m" + j, new Tensor(info, seg, "bench"), isBase, params));
                }
                jobs.add(in);
                outs.add(staggered(arena, executorBuffer ? Math.min(MergeEngine.OUTPUT_BUFFER, per * 2) : per * 2, stagger++));
            }
            Map<String, Object> globals = new java.util.HashMap<>();
            for (ParameterDef p : m.parameters()) if (p.defaultValue() != null) globals.put(p.name(), p.defaultValue());
            double s = time(threads, t -> {
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
                                // chunks are 16 KiB: they tile the 4 MiB buffer exactly
                                return out.asSlice(from * 2 % size, n * 2L);
                            }
                        }));
            });
            return new Measurement(method + " bf16 " + inputs + "->1" + (executorBuffer ? "" : " (to RAM)"), threads, s,
                    (inputs + 1) * per * 2 * threads);
        }
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

    /** Best of {@code repeats} timed runs after one warm-up; each thread runs its own part. */
    private double time(int threads, Consumer<Integer> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double best = Double.MAX_VALUE;
            for (int r = 0; r <= repeats; r++) {
                long start = System.nanoTime();
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    fs.add(pool.submit(() -> work.accept(id)));
                }
                for (Future<?> f : fs) f.get();
                double s = (System.nanoTime() - start) / 1e9;
                if (r > 0) best = Math.min(best, s);
            }
            return best;
        } finally {
            pool.shutdownNow();
        }
    }
}
