package dev.amalgam.provenance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Manifest hashing throughput against the machine's single-core SHA-256 speed, measured in one
 * run: the in-memory SHA-256 rate of one core, then hashing a model folder with 1 and with N
 * threads (the folder is read once first so the page cache is warm: this measures hashing, not disk).
 */
public final class HashingBenchmark {
    private HashingBenchmark() {
    }

    /** One measurement: bytes per second. */
    public record Rate(String name, int threads, double bytesPerSecond) {
    }

    public static List<Rate> run(Path model, int threads, int repeats) throws IOException {
        List<Rate> out = new ArrayList<>();
        Serialization s = Serialization.files(ModelHasher.ignores("model.sig", List.of()));
        long bytes = 0;
        Manifest warm = new ModelHasher(threads).hash(model, s);
        for (Manifest.Resource r : warm.resources()) bytes += Files.size(model.resolve(r.name()));
        for (int t : threads == 1 ? new int[] {1} : new int[] {1, threads}) {
            double best = Double.MAX_VALUE;
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                new ModelHasher(t).hash(model, s);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            out.add(new Rate("manifest of " + warm.resources().size() + " files", t, bytes / best));
        }
        // measured last, when the SHA-256 intrinsic is compiled as it is for the hashing above
        out.addFirst(new Rate("sha256 in memory (1 core)", 1, sha256InMemory(256 << 20, repeats)));
        return out;
    }

    /**
     * One core's SHA-256 compute speed: a cache-resident 1 MiB heap buffer hashed repeatedly
     * ({@code size} bytes in all), no I/O and no copies.
     */
    static double sha256InMemory(int size, int repeats) {
        byte[] buf = new byte[1 << 20];
        new SplittableRandom(1).nextBytes(buf);
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats + 2; i++) {
            MessageDigest md = ModelHasher.sha256();
            long t0 = System.nanoTime();
            for (int off = 0; off < size; off += buf.length) md.update(buf, 0, buf.length);
            md.digest();
            if (i > 1) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return size / best;
    }
}
