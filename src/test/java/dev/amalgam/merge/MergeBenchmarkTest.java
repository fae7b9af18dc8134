package dev.amalgam.merge;

import dev.amalgam.merge.kernel.Kernels;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The benchmark's measurements run and count their bytes as documented (no timing is asserted). */
class MergeBenchmarkTest {
    @Test
    void measurementsCountTheirBytes() throws Exception {
        long n = 1 << 16;
        for (var kernels : new dev.amalgam.merge.kernel.MergeKernels[]{Kernels.scalar(), Kernels.get()}) {
            var bench = new MergeBenchmark(n, 1, kernels);
            for (int threads : new int[]{1, 2}) {
                List<MergeBenchmark.Measurement> m;
                try (Arena arena = Arena.ofShared()) {
                    var inputs = bench.inputs(arena, threads);
                    m = bench.measureTogether(threads, List.of(bench.readInputs(arena, threads), bench.linear(arena, inputs),
                            bench.ties(arena, inputs), bench.linearInCache(arena, threads)));
                }
                assertEquals(3 * n * 2, m.get(0).bytes(), "three inputs read");
                assertEquals(4 * n * 2, m.get(1).bytes(), "three inputs read, one output written");
                assertEquals(4 * n * 2, m.get(2).bytes());
                assertEquals(4 * n * 2, m.get(3).bytes(), "in cache: as many elements as the others, in rounds");
                for (var x : m) {
                    assertTrue(x.seconds() > 0 && Double.isFinite(x.gbPerSecond()), x.toString());
                    assertEquals(threads, x.threads());
                }
            }
        }
    }
}
