package dev.amalgam.registry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lineage query benchmark on generated data: 100,000 models and 300,000 edges in a schema of its
 * own, created by the real V1 migration, queried with exactly the SQL {@link LineageService}
 * runs. The full size runs on request:
 * {@code ./mvnw test -Dtest=LineageBenchmark -Damalgam.bench=lineage} (PostgreSQL from
 * AMALGAM_TEST_PG_URL, else an in-memory H2). Results go to stdout; docs/benchmarks.md has them.
 * The suite runs it at a small size ({@link LineageBenchmarkSmokeTest}), so it cannot rot.
 *
 * Shape: 25,000 source models; 75,000 merges, each of 4 inputs: 3 sources and either an earlier
 * merge (70 %) or a 4th source, so chains of merges-of-merges form, as they do in practice.
 */
class LineageBenchmark {
    /** One measured walk: the numbers of a row of the table in docs/benchmarks.md. */
    record Row(String walk, double medianMs, double p95Ms, double maxMs, double meanModels) {
    }

    // the documented size; JUnit wants a single constructor, so other sizes come from ofSize
    int sources = 25_000;
    int merges = 75_000;
    int queries = 200;
    final java.util.List<Row> rows = new java.util.ArrayList<>();
    int edges;

    /** The benchmark at another size (the suite's smoke run). */
    static LineageBenchmark ofSize(int sources, int merges, int queries) {
        LineageBenchmark b = new LineageBenchmark();
        b.sources = sources;
        b.merges = merges;
        b.queries = queries;
        return b;
    }

    @Test
    @EnabledIfSystemProperty(named = "amalgam.bench", matches = "lineage")
    void run() throws Exception {
        String url = System.getenv("AMALGAM_TEST_PG_URL");
        String user = System.getenv().getOrDefault("AMALGAM_TEST_PG_USER", "postgres");
        run(url, user, "lineagebench");
    }

    /** Generates the models and edges and measures every walk; on PostgreSQL when {@code url} is given, else H2 in memory. */
    void run(String url, String user, String h2Name) throws Exception {
        boolean pg = url != null;
        if (!pg) {
            url = "jdbc:h2:mem:" + h2Name + ";DB_CLOSE_DELAY=-1";
            user = "sa";
        }
        try (Connection c = DriverManager.getConnection(url, user, "")) {
            try (Statement s = c.createStatement()) {
                if (pg) {
                    s.execute("DROP SCHEMA IF EXISTS lineage_bench CASCADE");
                    s.execute("CREATE SCHEMA lineage_bench");
                    s.execute("SET search_path TO lineage_bench");
                }
                for (String stmt : Files.readString(Path.of("migrations/V1__core_tables.sql"))
                        .replaceAll("--[^\n]*", "").split(";")) {
                    if (!stmt.isBlank()) s.execute(stmt);
                }
            }
            long t0 = System.nanoTime();
            edges = generate(c);
            System.out.printf("generated %d models, %d edges in %.1f s%n", sources + merges,
                    edges, (System.nanoTime() - t0) / 1e9);
            if (pg) try (Statement s = c.createStatement()) {
                s.execute("ANALYZE model");
                s.execute("ANALYZE lineage_edge");
            }
            for (LineageService.Direction d : LineageService.Direction.values()) {
                for (int depth : new int[] {10, LineageService.MAX_DEPTH}) {
                    measure(c, d, depth, pg);
                }
            }
            worstCase(c, pg);
            if (pg) try (Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA lineage_bench CASCADE");
            }
        }
    }

    private int generate(Connection c) throws Exception {
        c.setAutoCommit(false);
        try (PreparedStatement m = c.prepareStatement("""
                insert into model (id, name, version, root_digest, license, origin, status, size_bytes,
                  file_count, publisher_signature, registered_at, registered_by)
                  values (?, ?, '1', ?, 'apache-2.0', ?, ?, 0, 0, 'missing', current_timestamp, 'bench')""")) {
            for (int i = 1; i <= sources + merges; i++) {
                m.setLong(1, i);
                m.setString(2, "model-" + i);
                m.setString(3, "sha256:" + String.format("%064x", i));
                m.setString(4, i <= sources ? "source" : "merge");
                m.setString(5, i % 10 == 0 ? "released" : "registered");
                m.addBatch();
                if (i % 5000 == 0) m.executeBatch();
            }
            m.executeBatch();
        }
        SplittableRandom rnd = new SplittableRandom(42);
        try (PreparedStatement e = c.prepareStatement(
                "insert into lineage_edge (child_id, parent_id, role, method) values (?, ?, ?, 'ties')")) {
            int n = 0;
            for (int child = sources + 1; child <= sources + merges; child++) {
                long[] parents = new long[4];
                for (int k = 0; k < 3; k++) parents[k] = 1 + rnd.nextInt(sources);
                parents[3] = child > sources + 1 && rnd.nextInt(10) < 7
                        ? sources + 1 + rnd.nextInt(child - sources - 1) : 1 + rnd.nextInt(sources);
                long[] distinct = Arrays.stream(parents).distinct().toArray();
                for (int k = 0; k < distinct.length; k++) {
                    e.setLong(1, child);
                    e.setLong(2, distinct[k]);
                    e.setString(3, k == 0 ? "base" : "input");
                    e.addBatch();
                    if (++n % 5000 == 0) e.executeBatch();
                }
            }
            e.executeBatch();
            c.commit();
            c.setAutoCommit(true);
            return n;
        }
    }

    /** The first merge is an ancestor of the most models: the largest descendant walk there is. */
    private void worstCase(Connection c, boolean pg) throws Exception {
        String sql = LineageService.reachableSql(LineageService.Direction.DOWN)
                .replace(":start", "?").replace(":maxDepth", "?");
        double[] ms = new double[21];
        int rows = 0;
        try (PreparedStatement q = c.prepareStatement(sql)) {
            for (int i = 0; i < ms.length; i++) {
                q.setLong(1, sources + 1);
                q.setInt(2, LineageService.MAX_DEPTH);
                long t = System.nanoTime();
                rows = 0;
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) rows++;
                }
                ms[i] = (System.nanoTime() - t) / 1e6;
            }
        }
        Arrays.sort(ms);
        System.out.printf("%s DOWN depth 100 from the first merge (worst case): median %.2f ms, max %.2f ms, %d models%n",
                pg ? "postgresql" : "h2", ms[ms.length / 2], ms[ms.length - 1], rows);
        this.rows.add(new Row("descendants of the first merge, depth " + LineageService.MAX_DEPTH, ms[ms.length / 2],
                Double.NaN, ms[ms.length - 1], rows));
    }

    private void measure(Connection c, LineageService.Direction d, int depth, boolean pg) throws Exception {
        String sql = LineageService.reachableSql(d).replace(":start", "?").replace(":maxDepth", "?");
        SplittableRandom rnd = new SplittableRandom(7);
        double[] ms = new double[queries];
        long found = 0;
        try (PreparedStatement q = c.prepareStatement(sql)) {
            for (int i = -20; i < queries; i++) { // 20 warm-up queries
                long start = d == LineageService.Direction.UP
                        ? sources + 1 + rnd.nextInt(merges) : 1 + rnd.nextInt(sources);
                q.setLong(1, start);
                q.setInt(2, depth);
                long t = System.nanoTime();
                int rows = 0;
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) rows++;
                }
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - t) / 1e6;
                    found += rows;
                }
            }
        }
        Arrays.sort(ms);
        System.out.printf("%s %-4s depth %3d: median %.2f ms, p95 %.2f ms, max %.2f ms, mean result %.1f models%n",
                pg ? "postgresql" : "h2", d, depth, ms[queries / 2], ms[queries * 95 / 100], ms[queries - 1],
                found / (double) queries);
        assertTrue(found > 0, "the walks must find models");
        rows.add(new Row((d == LineageService.Direction.UP ? "ancestors" : "descendants") + ", depth " + depth,
                ms[queries / 2], ms[queries * 95 / 100], ms[queries - 1], found / (double) queries));
    }
}
