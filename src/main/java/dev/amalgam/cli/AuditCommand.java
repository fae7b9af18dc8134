package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code amalgam audit}: exit 0 clean, 1 with every problem named. */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = {"Verify the ledger, every blob and model signature, and the database against the ledger (admin).",
                "The ledger: its hash chain and signed checkpoints. Runs on a running registry. Exit 0 clean, 1 problems."})
final class AuditCommand extends ServerOption implements Callable<Integer> {

    @Override
    public Integer call() {
        JsonNode r = ApiClient.fromEnvironment(server).get("/api/v1/audit");
        for (JsonNode p : r.get("problems")) System.out.println("PROBLEM " + p.asText());
        System.out.println((r.get("clean").asBoolean() ? "clean: " : "NOT clean: ") + r.get("ledgerEntries").asText()
                + " ledger entries, " + r.get("models").asText() + " models");
        return r.get("clean").asBoolean() ? 0 : 1;
    }
}
