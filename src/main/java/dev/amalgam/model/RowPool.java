package dev.amalgam.model;

import dev.amalgam.model.kernel.MatVec;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs matrix-vector products on several threads, each over its own contiguous range of rows.
 * A row's sum never depends on the split, so results are the same bits for any thread count.
 * Small matrices run on the calling thread (handing them out costs more than it saves).
 */
public final class RowPool implements AutoCloseable {
    /** Below this many weights a product runs on the caller. */
    static final long PARALLEL_MIN = 1L << 16;

    private final int threads;
    private final MatVec kernel;
    private final ExecutorService pool;

    public RowPool(int threads, MatVec kernel) {
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1");
        this.threads = threads;
        this.kernel = kernel;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "amalgam-eval-rows");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    public MatVec kernel() {
        return kernel;
    }

    /** y = W·x (+ bias when not null). */
    public void multiply(ModelWeights.Matrix w, float[] x, float[] y, float[] bias) {
        int rows = w.rows();
        if (pool == null || (long) rows * w.cols() < PARALLEL_MIN) {
            kernel.rows(w.data(), w.dtype(), w.cols(), x, y, 0, rows);
        } else {
            int per = (rows + threads - 1) / threads;
            CountDownLatch done = new CountDownLatch(threads - 1);
            Future<?>[] parts = new Future<?>[threads - 1];
            for (int t = 1; t < threads; t++) {
                int from = Math.min(rows, t * per), to = Math.min(rows, from + per);
                parts[t - 1] = pool.submit(() -> {
                    try {
                        kernel.rows(w.data(), w.dtype(), w.cols(), x, y, from, to);
                    } finally {
                        done.countDown();
                    }
                });
            }
            kernel.rows(w.data(), w.dtype(), w.cols(), x, y, 0, Math.min(rows, per));
            try {
                done.await();
                for (Future<?> f : parts) f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(w.name() + ": " + e.getCause(), e.getCause());
            }
        }
        if (bias != null) for (int i = 0; i < rows; i++) y[i] = y[i] + bias[i];
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
