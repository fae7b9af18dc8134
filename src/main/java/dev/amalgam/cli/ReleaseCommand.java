package dev.amalgam.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code amalgam release MODEL --env E}: releases when the gate allows, else exit 1 with the reasons. */
@Command(name = "release", mixinStandardHelpOptions = true,
        description = "Release a model to an environment; refused (exit 1, reasons printed) unless the gate allows.")
final class ReleaseCommand extends ServerOption implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "id, NAME@VERSION or sha256:DIGEST")
    String model;

    @Option(names = "--env", required = true, description = "Environment, e.g. production.")
    String env;


    @Override
    public Integer call() {
        return GateCommand.print(ApiClient.fromEnvironment(server).post("/api/v1/models/" + MergesCommand.enc(model)
                + "/releases?env=" + MergesCommand.enc(env), Map.of()));
    }
}
