package dev.amalgam.cli;

import dev.amalgam.registry.Bootstrap;
import dev.amalgam.registry.DataDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code amalgam admin reset-token}: recovery that needs the data directory, not a token. */
@Command(name = "admin", mixinStandardHelpOptions = true, description = "Recovery with access to the data directory.",
        subcommands = {AdminCommand.ResetToken.class},
        footer = {"", "Example:", "  amalgam admin reset-token --data ./amalgam-data"})
final class AdminCommand {

    @Command(name = "reset-token", mixinStandardHelpOptions = true,
            description = {"Ask the registry to give a principal (default: admin) a new token at its next start; the old",
                    "token stops working and the reset is recorded in the ledger. Needs write access to the data",
                    "directory: the recovery when the only admin token is lost. The new token is written to",
                    "<data>/keys/admin.token (or <name>.token)."})
    static final class ResetToken implements Callable<Integer> {
        @Option(names = "--data", paramLabel = "DIR", description = "Data directory (default: $AMALGAM_DATA or ./amalgam-data).")
        String data;

        @Option(names = "--name", paramLabel = "NAME", defaultValue = Bootstrap.ADMIN, description = "Principal (default: admin).")
        String name;

        @Override
        public Integer call() throws IOException {
            String env = System.getenv("AMALGAM_DATA");
            Path dir = Path.of(data != null ? data : env != null && !env.isBlank() ? env : "amalgam-data").toAbsolutePath();
            Path keys = dir.resolve("keys");
            if (!Files.isDirectory(keys) || !Files.isDirectory(dir.resolve("ledger.git"))) {
                throw new CliException(CliException.UNUSABLE, dir + " is not an Amalgam data directory (no keys/ or ledger.git/)");
            }
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")) throw new CliException(CliException.UNUSABLE, "invalid principal name '" + name + "'");
            Path request = keys.resolve(Bootstrap.RESET_REQUEST);
            String before = Files.exists(request) ? Files.readString(request, StandardCharsets.UTF_8) : "";
            DataDirectory.writeSecret(request, (before + name + "\n").getBytes(StandardCharsets.UTF_8));
            System.out.println("Token reset for '" + name + "' requested. Restart the registry (amalgam serve); the new token is then in "
                    + keys.resolve(Bootstrap.tokenFile(name)) + " and the reset is in the ledger.");
            return 0;
        }
    }
}
