package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code amalgam gate MODEL --env E}: exit 0 allow, 1 deny; every rule printed. */
@Command(name = "gate", mixinStandardHelpOptions = true,
        description = {"Ask the release gate whether a model may go to an environment.",
                "Exit 0 allow, 1 deny (with every rule's result)."})
final class GateCommand extends ServerOption implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "id, NAME@VERSION or sha256:DIGEST (see amalgam digest)")
    String model;

    @Option(names = "--env", required = true, description = "Environment, e.g. production.")
    String env;


    @Override
    public Integer call() {
        JsonNode d = ApiClient.fromEnvironment(server).post("/api/v1/models/" + MergesCommand.enc(model)
                + "/gate?env=" + MergesCommand.enc(env), Map.of());
        return print(d);
    }

    static int print(JsonNode d) {
        System.out.println(d.get("outcome").asText().toUpperCase() + ": " + d.get("model").asText() + " to "
                + d.get("environment").asText() + " (decision " + d.get("decisionId").asText() + ", policy "
                + d.get("policyDigest").asText() + ")");
        for (JsonNode r : d.get("rules")) {
            System.out.printf("  %-5s %-14s %s%n", r.get("result").asText(), r.get("id").asText(), r.get("message").asText());
        }
        return d.get("outcome").asText().equals("allow") || d.get("outcome").asText().equals("released") ? 0 : 1;
    }
}
