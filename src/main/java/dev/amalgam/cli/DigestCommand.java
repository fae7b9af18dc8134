package dev.amalgam.cli;

import dev.amalgam.provenance.HashingBenchmark;
import dev.amalgam.provenance.Manifest;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.provenance.ProvenanceException;
import dev.amalgam.provenance.Serialization;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code amalgam digest PATH}: the OMS root digest, the model's identity in the registry. */
@Command(name = "digest", mixinStandardHelpOptions = true,
        description = "Print a model's OpenSSF Model Signing root digest (sha256:...), as the registry and the gate know it.")
final class DigestCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "Model folder or single file.")
    Path path;

    @Option(names = "--ignore-path", paramLabel = "P", description = "Leave this path (relative to the model) out; repeatable.")
    List<String> ignore = List.of();

    @Option(names = "--shards", paramLabel = "BYTES", description = "Use shards serialization with this shard size.")
    Long shardSize;

    @Option(names = "--threads", description = "Hashing threads (default: all cores).")
    Integer threads;

    @Option(names = "--manifest", description = "Also print every resource and its digest.")
    boolean manifest;

    @Option(names = "--bench", description = "Measure hashing throughput on PATH against one core's SHA-256 speed.")
    boolean bench;

    @Override
    public Integer call() throws Exception {
        if (bench) {
            int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
            var rates = HashingBenchmark.run(path, n, 3);
            double core = rates.getFirst().bytesPerSecond();
            for (var r : rates) {
                System.out.printf("%-34s %d thread(s) %8.0f MB/s  %.2fx one core's SHA-256%n", r.name(), r.threads(),
                        r.bytesPerSecond() / 1e6, r.bytesPerSecond() / core);
            }
            return 0;
        }
        List<String> extra = new ArrayList<>(ignore);
        extra.add(ModelHasher.BUNDLE_FOLDER); // a downloaded release bundle's additions are not the model
        List<String> ignores = ModelHasher.ignores("model.sig", extra);
        Serialization s = shardSize == null ? Serialization.files(ignores) : Serialization.shards(shardSize, ignores);
        Manifest m;
        try {
            m = (threads == null ? ModelHasher.parallel() : new ModelHasher(threads)).hash(path, s);
        } catch (ProvenanceException e) {
            throw new CliException(CliException.UNUSABLE, e.getMessage());
        }
        if (manifest) {
            for (Manifest.Resource r : m.resources()) System.out.println(r.digest() + "  " + r.name());
        }
        System.out.println("sha256:" + m.rootDigest());
        return 0;
    }
}
