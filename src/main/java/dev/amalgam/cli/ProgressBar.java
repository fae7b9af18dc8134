package dev.amalgam.cli;

import dev.amalgam.merge.ProgressListener;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** A one-line progress bar (tensors, bytes, rate, ETA) on a terminal; silent when not a TTY. */
final class ProgressBar implements ProgressListener, AutoCloseable {
    private final PrintWriter err;
    private final boolean enabled;
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicLong bytesDone = new AtomicLong();
    private volatile int total;
    private volatile long totalBytes;
    private volatile long start;
    private volatile long lastDraw;
    private boolean drawn;

    private ProgressBar(PrintWriter err, boolean enabled) {
        this.err = err;
        this.enabled = enabled;
    }

    static ProgressBar forTerminal(PrintWriter err) {
        var console = System.console();
        return new ProgressBar(err, console != null && console.isTerminal());
    }

    @Override
    public void started(int tensors, long bytes) {
        total = tensors;
        totalBytes = bytes;
        start = System.nanoTime();
    }

    @Override
    public void tensorDone(String name, long bytes) {
        int d = done.incrementAndGet();
        long b = bytesDone.addAndGet(bytes);
        if (!enabled) return;
        long now = System.nanoTime();
        if (now - lastDraw < 100_000_000L && d < total) return;
        lastDraw = now;
        draw(d, b, now);
    }

    private synchronized void draw(int d, long b, long now) {
        double secs = Math.max(1e-9, (now - start) / 1e9);
        double rate = b / secs;
        int width = 30;
        int filled = totalBytes == 0 ? width : (int) (width * b / totalBytes);
        long eta = rate > 0 ? (long) ((totalBytes - b) / rate) : 0;
        err.printf("\r[%s%s] %d/%d tensors  %s/%s  %s/s  ETA %ds ", "#".repeat(filled), " ".repeat(width - filled),
                d, total, bytes(b), bytes(totalBytes), bytes((long) rate), eta);
        err.flush();
        drawn = true;
    }

    static String bytes(long b) {
        if (b >= 1L << 30) return String.format("%.2f GiB", b / (double) (1L << 30));
        if (b >= 1L << 20) return String.format("%.1f MiB", b / (double) (1L << 20));
        if (b >= 1L << 10) return String.format("%.1f KiB", b / 1024.0);
        return b + " B";
    }

    @Override
    public synchronized void close() {
        if (drawn) {
            err.println();
            err.flush();
        }
    }
}
