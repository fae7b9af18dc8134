package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code amalgam merges submit|show|list|review|reproduce|cancel}: merge jobs on a running registry. */
@Command(name = "merges", mixinStandardHelpOptions = true,
        description = "Submit merges of registered models, follow them, review them (four eyes), reproduce them.",
        subcommands = {MergesCommand.Submit.class, MergesCommand.Show.class, MergesCommand.ListJobs.class,
                MergesCommand.Review.class, MergesCommand.Reproduce.class, MergesCommand.Cancel.class},
        footer = {"", "Example:", "  amalgam merges submit merge.yml --name my-merge --version 1 --wait"})
final class MergesCommand {


    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Submit a recipe whose models are NAME@VERSION or sha256:DIGEST of registered models.")
    static final class Submit extends ServerOption implements Callable<Integer> {
        @Parameters(paramLabel = "RECIPE.yml")
        Path recipe;

        @Option(names = "--name", description = "Name to register the output under (default: merge-<random>).")
        String name;

        @Option(names = "--version", description = "Version of the output (default: 1).")
        String version;

        @Option(names = "--wait", description = "Wait until the job finishes; exit 1 if it fails.")
        boolean waitForIt;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(recipe)) throw new CliException(CliException.UNUSABLE, "no such recipe: " + recipe);
            StringBuilder q = new StringBuilder("/api/v1/merges");
            String sep = "?";
            if (name != null) {
                q.append(sep).append("name=").append(enc(name));
                sep = "&";
            }
            if (version != null) q.append(sep).append("version=").append(enc(version));
            ApiClient api = ApiClient.fromEnvironment(server);
            JsonNode job = api.postText(q.toString(), "application/yaml", Files.readString(recipe));
            long id = job.get("id").asLong();
            System.out.println("merge " + id + " " + job.get("state").asText() + " (output "
                    + job.get("outputName").asText() + "@" + job.get("outputVersion").asText() + ")");
            if (!waitForIt) return 0;
            String state = job.get("state").asText();
            double last = -1;
            while (state.equals("queued") || state.equals("running")) {
                Thread.sleep(500);
                job = api.get("/api/v1/merges/" + id);
                state = job.get("state").asText();
                double p = job.path("progress").asDouble(0);
                if (p != last && System.console() != null) System.err.printf("\r%s %3.0f%%", state, p * 100);
                last = p;
            }
            if (System.console() != null) System.err.println();
            print(job);
            return state.equals("succeeded") ? 0 : 1;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a merge job.")
    static final class Show extends ServerOption implements Callable<Integer> {
        @Parameters(paramLabel = "ID")
        long id;

        @Option(names = "--review", description = "Show the review page data instead (inputs, licenses, recipe diff).")
        boolean review;

        @Override
        public Integer call() throws Exception {
            JsonNode j = ApiClient.fromEnvironment(server).get("/api/v1/merges/" + id + (review ? "/review" : ""));
            System.out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Recent merge jobs.")
    static final class ListJobs extends ServerOption implements Callable<Integer> {
        @Override
        public Integer call() {
            for (JsonNode j : ApiClient.fromEnvironment(server).get("/api/v1/merges")) print(j);
            return 0;
        }
    }

    @Command(name = "review", mixinStandardHelpOptions = true,
            description = "Approve or reject a merge (you cannot review your own).")
    static final class Review extends ServerOption implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ID")
        long id;

        @Parameters(index = "1", paramLabel = "DECISION", description = "approve or reject")
        String decision;

        @Option(names = "--comment", description = "Why (required to reject).")
        String comment;

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("decision", decision);
            body.put("comment", comment);
            JsonNode r = ApiClient.fromEnvironment(server).post("/api/v1/merges/" + id + "/review", body);
            System.out.println("merge " + id + ": " + r.get("outcome").asText() + " by " + r.get("reviewer").asText());
            return 0;
        }
    }

    @Command(name = "reproduce", mixinStandardHelpOptions = true,
            description = "Re-run a merge and check its output digest is identical (exit 1 if not).")
    static final class Reproduce extends ServerOption implements Callable<Integer> {
        @Parameters(paramLabel = "ID")
        long id;

        @Override
        public Integer call() {
            JsonNode r = ApiClient.fromEnvironment(server).post("/api/v1/merges/" + id + "/reproduce", Map.of());
            boolean same = r.get("identical").asBoolean();
            System.out.println((same ? "identical: " : "DIFFERENT: ") + r.get("reproducedDigest").asText()
                    + (same ? "" : " vs registered " + r.get("originalDigest").asText()));
            return same ? 0 : 1;
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a queued or running merge.")
    static final class Cancel extends ServerOption implements Callable<Integer> {
        @Parameters(paramLabel = "ID")
        long id;

        @Override
        public Integer call() {
            print(ApiClient.fromEnvironment(server).delete("/api/v1/merges/" + id));
            return 0;
        }
    }

    static void print(JsonNode j) {
        System.out.printf("%-6s %-10s %-8s %-32s %s%n", j.get("id").asText(), j.get("state").asText(),
                j.get("method").asText(), j.get("outputName").asText() + "@" + j.get("outputVersion").asText(),
                j.hasNonNull("failureReason") ? j.get("failureReason").asText()
                        : j.hasNonNull("outputModelId") ? "model " + j.get("outputModelId").asText() : "");
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
