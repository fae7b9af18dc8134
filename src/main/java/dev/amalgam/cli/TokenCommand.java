package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code amalgam token create|list|revoke}: manage API principals through a running registry (admin). */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = "Manage API tokens on a running registry (needs an admin token).",
        subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class},
        footer = {"", "Example:", "  ALICE=$(amalgam token create --name alice --roles submitter)"})
final class TokenCommand {


    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a principal and print its token (shown once).")
    static final class Create extends ServerOption implements Callable<Integer> {
        @Option(names = "--name", required = true, description = "Principal name, e.g. release-bot.")
        String name;

        @Option(names = "--roles", required = true, split = ",", paramLabel = "ROLE",
                description = "Comma-separated roles: admin, submitter, reviewer, deployer, reader.")
        List<String> roles;

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("roles", roles);
            JsonNode created = ApiClient.fromEnvironment(server).post("/api/v1/tokens", body);
            System.out.println(created.get("token").asText());
            System.err.println("Token for '" + name + "' (" + String.join(",", roles)
                    + "); it is shown only this once.");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List principals and their roles.")
    static final class ListTokens extends ServerOption implements Callable<Integer> {
        @Override
        public Integer call() {
            for (JsonNode p : ApiClient.fromEnvironment(server).get("/api/v1/tokens")) {
                String roles = String.join(",", Arrays.stream(ApiClient.JSON.convertValue(p.get("roles"), String[].class)).toList());
                System.out.printf("%-24s %-40s %s%n", p.get("name").asText(), roles,
                        p.get("revoked").asBoolean() ? "revoked" : "active");
            }
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a principal's token.")
    static final class Revoke extends ServerOption implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            ApiClient.fromEnvironment(server).delete("/api/v1/tokens/" + URLEncoder.encode(name, StandardCharsets.UTF_8));
            System.out.println("revoked " + name);
            return 0;
        }
    }
}
