package dev.amalgam.cli;

import dev.amalgam.merge.SampleModel;
import dev.amalgam.safetensors.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code amalgam sample-model DIR ...}: a small random model of a real layout. */
@Command(name = "sample-model", mixinStandardHelpOptions = true,
        description = "Write a random model with a real architecture's tensor layout (for tests, demos, benchmarks).")
final class SampleModelCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR")
    Path dir;

    @Option(names = "--arch", description = "llama, mistral or qwen2 (default: llama, or BASE's with --like)")
    String arch;

    @Option(names = "--layers", description = "default: 2, or BASE's with --like")
    Integer layers;

    @Option(names = "--hidden", description = "default: 64, or BASE's with --like")
    Integer hidden;

    @Option(names = "--intermediate", description = "default: 128, or BASE's with --like")
    Integer intermediate;

    @Option(names = "--vocab", description = "default: 256, or BASE's with --like")
    Integer vocab;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--dtype", description = "bfloat16, float16 or float32 (default: bfloat16, or BASE's with --like)")
    String dtype;

    @Option(names = "--like", paramLabel = "BASE",
            description = "make a fine-tune-like variant of this model folder; its shape comes from BASE's config.json")
    Path like;

    @Option(names = "--delta-scale", defaultValue = "0.001", description = "scale of the random delta with --like")
    double deltaScale;

    @Override
    public Integer call() throws IOException {
        SampleModel.Spec s;
        try {
            SampleModel.Spec base = like == null ? SampleModel.Spec.DEFAULT : SampleModel.specOf(like);
            String dt = dtype != null ? dtype : base.dtype().torchName();
            DType d = DType.fromTorchName(dt).orElseThrow(() -> new CliException("unknown --dtype " + dt));
            s = new SampleModel.Spec(arch != null ? arch : base.arch(), or(layers, base.layers()), or(hidden, base.hidden()),
                    or(intermediate, base.intermediate()), or(vocab, base.vocab()), seed, d);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        SampleModel.write(dir, s, like, deltaScale);
        spec.commandLine().getOut().println("wrote " + dir);
        return 0;
    }

    private static int or(Integer given, int fallback) {
        return given != null ? given : fallback;
    }
}
