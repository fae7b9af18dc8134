package dev.amalgam.cli;

import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergeOptions;
import dev.amalgam.merge.MergeRequest;
import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.provenance.PemKeys;
import dev.amalgam.provenance.ProvenanceException;
import dev.amalgam.provenance.SlsaProvenance;
import dev.amalgam.safetensors.SafetensorsFormatException;
import dev.amalgam.safetensors.SafetensorsWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code amalgam merge RECIPE.yml --out DIR}: an offline merge, no registry needed. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merge models with a mergekit-compatible recipe into a new model folder.")
final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "RECIPE.yml", description = "the recipe; relative model paths resolve against its folder")
    Path recipe;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder (must not exist or be empty)")
    Path out;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores); never changes the output")
    Integer threads;

    @Option(names = "--shard-size", paramLabel = "SIZE", defaultValue = "5GB",
            description = "maximum shard size, e.g. 5GB, 500MB, 2GiB (default: ${DEFAULT-VALUE})")
    String shardSize;

    @Option(names = "--sign-key", paramLabel = "KEY.pem",
            description = "sign the output: writes model.sig (OMS) and provenance.intoto.json (SLSA provenance v1, DSSE)")
    Path signKey;

    @Override
    public Integer call() throws IOException {
        PrivateKey key = null;
        if (signKey != null) {
            try {
                String pw = System.getenv("AMALGAM_KEY_PASSWORD");
                key = PemKeys.readPrivateKey(signKey, pw == null ? null : pw.toCharArray());
            } catch (ProvenanceException e) {
                throw new CliException(CliException.UNUSABLE, e.getMessage());
            }
        }
        Instant started = Instant.now();
        MergeOptions options = MergeOptions.defaults().withShardSize(SafetensorsWriter.parseSize(shardSize));
        if (threads != null) options = options.withThreads(threads);
        Recipe r = RecipeParser.parse(recipe);
        MergeResult result;
        try (ProgressBar bar = ProgressBar.forTerminal(spec.commandLine().getErr())) {
            result = MergeEngine.run(new MergeRequest(r, ModelResolver.local(), out, options, bar));
        } catch (RecipeException | SafetensorsFormatException e) {
            throw new CliException(e.getMessage());
        }
        var o = spec.commandLine().getOut();
        o.printf("merged %d tensors (%s) with %s into %s%n", result.tensors(), ProgressBar.bytes(result.tensorBytes()),
                result.method(), result.output());
        o.printf("seed %d, engine %s, kernels %s%n", result.seed(), result.engineVersion(), result.kernels());
        if (key != null) {
            String root = SignedOutput.write(r, result, key, started);
            o.printf("signed sha256:%s: model.sig, %s%n", root, SlsaProvenance.FILE_NAME);
        }
        return 0;
    }
}
