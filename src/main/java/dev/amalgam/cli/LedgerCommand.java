package dev.amalgam.cli;

import dev.amalgam.ledger.event.EventTable;
import picocli.CommandLine.Command;

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code amalgam ledger checkpoint|replay|events}: the registry's ledger. */
@Command(name = "ledger", mixinStandardHelpOptions = true, description = "The registry's ledger.",
        subcommands = {LedgerCommand.Checkpoint.class, LedgerCommand.Replay.class, LedgerCommand.Events.class},
        footer = {"", "Example:", "  amalgam ledger checkpoint --server http://localhost:8080"})
final class LedgerCommand {

    @Command(name = "events", mixinStandardHelpOptions = true,
            description = "Print the table of ledger event types and their payload fields (Markdown; no server needed).")
    static final class Events implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.print(EventTable.markdown());
            return 0;
        }
    }

    @Command(name = "checkpoint", mixinStandardHelpOptions = true, description = "Print the latest signed checkpoint.")
    static final class Checkpoint extends ServerOption implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.print(ApiClient.fromEnvironment(server).getText("/api/v1/ledger/checkpoint", "text/plain"));
            return 0;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = "Rebuild the registry's (empty) database from the ledger alone (admin).")
    static final class Replay extends ServerOption implements Callable<Integer> {
        @Override
        public Integer call() {
            var r = ApiClient.fromEnvironment(server).post("/api/v1/ledger/replay", Map.of());
            System.out.println("applied " + r.get("applied").asText() + " ledger entries");
            return 0;
        }
    }
}
