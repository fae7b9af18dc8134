package dev.amalgam.merge;

import dev.amalgam.merge.kernel.Kernels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The benchmark's measurements run and count their bytes as documented (no timing is asserted). */
class MergeBenchmarkTest {
    @Test
    void measurementsCountTheirBytes() throws Exception {
        long n = 1 << 16;
        for (var kernels : new dev.amalgam.merge.kernel.MergeKernels[]{Kernels.scalar(), Kernels.get()}) {
            var bench = new MergeBenchmark(n, 1, kernels);
            for (int threads : new int[]{1, 2}) {
                var read = bench.readInputs(threads);
                assertEquals(3 * n * 2, read.bytes(), "three inputs read");
                var linear = bench.linear(threads);
                assertEquals(4 * n * 2, linear.bytes(), "three inputs read, one output written");
                var ties = bench.ties(threads);
                assertEquals(4 * n * 2, ties.bytes());
                for (var m : new MergeBenchmark.Measurement[]{read, linear, ties}) {
                    assertTrue(m.seconds() > 0 && Double.isFinite(m.gbPerSecond()), m.toString());
                    assertEquals(threads, m.threads());
                }
            }
        }
    }
}
