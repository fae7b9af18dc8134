package dev.amalgam.merge;

import dev.amalgam.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The output's writes, made on one thread of their own while the merge threads compute.
 *
 * <p>Writes to one file take the file's lock in the kernel: with every merge thread writing its
 * own buffers, one thread copied while the others spun on the lock (a sixth of a linear merge's
 * CPU time, measured with {@code perf}), and on a disk a thread the kernel throttled for
 * writeback stopped computing. Here each merge thread fills two buffers in turn ({@link
 * Buffers}): it hands a full one over and goes on in the other, and waits only when that one is
 * still queued. Writes keep their byte offsets, so their order does not matter.
 *
 * <p>The first failed write fails every later wait and {@link #close}; nothing is lost silently.
 */
final class WriteBehind implements AutoCloseable {
    private record Job(String name, long offset, MemorySegment bytes, CompletableFuture<Void> done) {
    }

    private static final Job END = new Job(null, 0, null, null);

    private final SafetensorsWriter writer;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile IOException failure;
    private boolean closed;

    WriteBehind(SafetensorsWriter writer) {
        this.writer = writer;
        this.thread = new Thread(this::drain, "amalgam-write");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a write of {@code bytes} at byte {@code offset} of tensor {@code name}; the bytes must stay unchanged until it is done. */
    synchronized CompletableFuture<Void> submit(String name, long offset, MemorySegment bytes) throws IOException {
        IOException f = failure;
        if (f != null) throw new IOException("an earlier write of the output failed: " + f.getMessage(), f);
        if (closed) throw new IOException("the output is closed (the merge failed)");
        var done = new CompletableFuture<Void>();
        queue.add(new Job(name, offset, bytes, done));
        return done;
    }

    /** Writes and waits: for bytes the caller does not own (an input's mapping). */
    void write(String name, long offset, MemorySegment bytes) throws IOException {
        await(submit(name, offset, bytes));
    }

    private void drain() {
        while (true) {
            Job job;
            try {
                job = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (job == END) return;
            if (failure != null) {
                job.done().completeExceptionally(failure);
                continue;
            }
            try {
                writer.write(job.name(), job.offset(), job.bytes());
                job.done().complete(null);
            } catch (Throwable e) { // an Error too: a merge thread must never wait for a write that never ends
                IOException io = e instanceof IOException x ? x : new IOException(job.name() + ": " + e.getMessage(), e);
                failure = io;
                job.done().completeExceptionally(io);
            }
        }
    }

    /** Waits for every queued write; throws the first failure. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            // every job queued before the end is written (or failed) before the thread stops
            closed = true;
            queue.add(END);
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            thread.interrupt();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing the output");
        }
        if (failure != null) throw failure;
    }

    static void await(CompletableFuture<Void> f) throws IOException {
        if (f == null) return;
        try {
            f.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) throw new IOException(io.getMessage(), io);
            if (c instanceof UncheckedIOException u) throw u.getCause();
            throw new IOException(String.valueOf(c), c);
        }
    }

    /**
     * Two native output buffers one merge thread fills in turns; each remembers its write still
     * in flight. Reused from tensor to tensor (fresh buffers would fault their pages in each time).
     */
    static final class Buffers {
        private final MemorySegment[] buffer = new MemorySegment[2];
        private final CompletableFuture<Void>[] pending = newPending();
        private int current;

        @SuppressWarnings("unchecked")
        private static CompletableFuture<Void>[] newPending() {
            return (CompletableFuture<Void>[]) new CompletableFuture<?>[2];
        }

        /** The buffer to fill now, at least {@code bytes} long, once its previous write is done. */
        MemorySegment take(long bytes) throws IOException {
            await(pending[current]);
            pending[current] = null;
            MemorySegment b = buffer[current];
            if (b == null || b.byteSize() < bytes) {
                b = Arena.ofAuto().allocate(bytes, 64);
                buffer[current] = b;
            }
            return b.asSlice(0, bytes);
        }

        /** Hands the current buffer's first {@code len} bytes over as tensor bytes at {@code offset}, and switches buffers. */
        void hand(WriteBehind out, String name, long offset, long len) throws IOException {
            pending[current] = out.submit(name, offset, buffer[current].asSlice(0, len));
            current ^= 1;
        }
    }
}
