package dev.amalgam.registry;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/benchmarks.md's lineage benchmark at a small size, so a schema change that breaks its
 * inserts or queries fails the suite (it once broke unnoticed). It runs and produces numbers; no
 * time is asserted.
 */
class LineageBenchmarkSmokeTest {
    @Test
    void theLineageBenchmarkRunsAndMeasuresEveryWalk() throws Exception {
        LineageBenchmark bench = LineageBenchmark.ofSize(300, 900, 10);
        bench.run(null, null, "lineagesmoke");
        assertTrue(bench.edges >= 900 * 3, "three or four parents per merge: " + bench.edges);
        assertEquals(5, bench.rows.size(), "the five rows of the documented table: " + bench.rows);
        for (LineageBenchmark.Row r : bench.rows) {
            assertTrue(r.medianMs() >= 0 && r.maxMs() >= r.medianMs() && Double.isFinite(r.maxMs()), r.toString());
            assertTrue(r.meanModels() > 0, "the walk found models: " + r);
        }
    }
}
