package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** {@code amalgam lineage MODEL [--down] [--depth N] [--format text|json|dot|mermaid]}. */
@Command(name = "lineage", mixinStandardHelpOptions = true,
        description = "Show where a registered model came from (ancestors) or, with --down, what descends from it.")
final class LineageCommand extends ServerOption implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "id, NAME@VERSION or sha256:DIGEST")
    String model;

    @Option(names = "--down", description = "Descendants instead of ancestors.")
    boolean down;

    @Option(names = "--depth", defaultValue = "10", description = "How many merge steps to follow (default ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = "--format", defaultValue = "text", description = "text, json, dot or mermaid (default ${DEFAULT-VALUE}).")
    String format;


    @Override
    public Integer call() throws Exception {
        ApiClient api = ApiClient.fromEnvironment(server);
        String path = "/api/v1/models/" + URLEncoder.encode(model, StandardCharsets.UTF_8).replace("+", "%20")
                + "/lineage?direction=" + (down ? "down" : "up") + "&depth=" + depth;
        switch (format) {
            case "dot" -> System.out.print(api.getText(path + "&format=dot", "text/vnd.graphviz"));
            case "mermaid" -> System.out.print(api.getText(path + "&format=mermaid", "text/vnd.mermaid"));
            case "json" -> System.out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(api.get(path)));
            case "text" -> printText(api.get(path));
            default -> throw new CliException(CliException.UNUSABLE, "--format must be text, json, dot or mermaid");
        }
        return 0;
    }

    private void printText(JsonNode l) {
        JsonNode r = l.get("root");
        System.out.println(label(r));
        if (l.get("nodes").isEmpty()) {
            System.out.println(down ? "  (nothing descends from it)" : "  (a source model: no ancestors)");
        }
        for (JsonNode n : l.get("nodes")) {
            System.out.println("  ".repeat(n.get("depth").asInt()) + (down ? "<- " : "-> ") + label(n));
        }
    }

    private static String label(JsonNode n) {
        return n.get("name").asText() + "@" + n.get("version").asText() + "  " + n.get("rootDigest").asText()
                + "  [" + n.get("license").asText() + ", " + n.get("status").asText() + "]";
    }
}
