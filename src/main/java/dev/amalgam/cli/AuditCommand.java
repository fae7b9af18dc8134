package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code amalgam audit}: exit 0 clean, 1 with every problem named. */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = {"Verify the ledger, every blob and model signature, and the database against the ledger (admin).",
                "The ledger: its hash chain, signed checkpoints and witness cosignature, and that it extends the",
                "checkpoint this client verified last time (consistency proof). Runs on a running registry.",
                "Exit 0 clean, 1 problems."})
final class AuditCommand extends ServerOption implements Callable<Integer> {

    @Override
    public Integer call() {
        ApiClient client = ApiClient.fromEnvironment(server);
        System.out.println(CheckpointCheck.verify(client));
        JsonNode r = client.get("/api/v1/audit");
        for (JsonNode p : r.get("problems")) System.out.println("PROBLEM " + p.asText());
        System.out.println((r.get("clean").asBoolean() ? "clean: " : "NOT clean: ") + r.get("ledgerEntries").asText()
                + " ledger entries, " + r.get("models").asText() + " models");
        return r.get("clean").asBoolean() ? 0 : 1;
    }
}
