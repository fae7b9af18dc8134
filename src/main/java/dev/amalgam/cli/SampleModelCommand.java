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

    @Option(names = "--arch", defaultValue = "llama", description = "llama, mistral or qwen2 (default: ${DEFAULT-VALUE})")
    String arch;

    @Option(names = "--layers", defaultValue = "2")
    int layers;

    @Option(names = "--hidden", defaultValue = "64")
    int hidden;

    @Option(names = "--intermediate", defaultValue = "128")
    int intermediate;

    @Option(names = "--vocab", defaultValue = "256")
    int vocab;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--dtype", defaultValue = "bfloat16", description = "bfloat16, float16 or float32")
    String dtype;

    @Option(names = "--like", paramLabel = "BASE", description = "make a fine-tune-like variant of this model folder")
    Path like;

    @Option(names = "--delta-scale", defaultValue = "0.001", description = "scale of the random delta with --like")
    double deltaScale;

    @Override
    public Integer call() throws IOException {
        DType dt = DType.fromTorchName(dtype).orElseThrow(() -> new CliException("unknown --dtype " + dtype));
        SampleModel.Spec s;
        try {
            s = new SampleModel.Spec(arch, layers, hidden, intermediate, vocab, seed, dt);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        SampleModel.write(dir, s, like, deltaScale);
        spec.commandLine().getOut().println("wrote " + dir);
        return 0;
    }
}
